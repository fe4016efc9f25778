// The exposition of snapshots added in order to one ExpositionBuilder, as text: what the
// tests of the builder's output render through.
import { ExpositionBuilder, type ExpositionFormat, type SkippedData, type SnapshotExport } from '../../src/index.js';

export interface RenderOptions {
  readonly format?: ExpositionFormat;
  readonly commentHeader?: string;
  readonly metricsWritten?: Set<string>;
}

export function renderText(
  snapshots: readonly SnapshotExport[],
  options: RenderOptions = {},
): { text: string; skips: SkippedData[] } {
  const skips: SkippedData[] = [];
  const b = new ExpositionBuilder({ format: options.format, onSkip: (s) => skips.push(s) });
  for (const s of snapshots) b.add(s);
  const body = b.finish({ commentHeader: options.commentHeader, metricsWritten: options.metricsWritten });
  return { text: body.toString('utf8'), skips };
}
