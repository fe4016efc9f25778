// A Scraper over a fake backend with the server's defaults, for scrape tests.
import { memoryLogger } from '../../src/log.js';
import { type ScrapeRequest, Scraper, type ScraperOptions } from '../../src/scrape.js';
import type { FakeBackend } from './fake-backend.js';

export const NO_FILTER: ScrapeRequest = { metricsFilter: '', metricsMatcher: undefined, capabilityMatcher: undefined };

export function newScraper(
  backend: FakeBackend,
  opts: Partial<ScraperOptions> = {},
): { s: Scraper; log: ReturnType<typeof memoryLogger> } {
  const log = memoryLogger();
  const s = new Scraper(backend, {
    root: '/run/runsc',
    exporterPrefix: 'runsc_',
    perSandboxTimeoutMs: 8000,
    scrapeConcurrency: 256,
    scrapeDeadlineMs: 30_000,
    startTimeSeconds: 1716228000.5,
    log,
    ...opts,
  });
  return { s, log };
}
