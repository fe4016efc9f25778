// Re-export of the repo's shared promtool judge, behind requireTool so a
// missing promtool fails with the install hint.
import { expectPromtoolAccepts as accepts } from '../../test-support/promtool.js';
import { requireTool } from './require-tool.js';

export function expectPromtoolAccepts(text: string | Buffer): void {
  requireTool('promtool');
  accepts(text);
}
