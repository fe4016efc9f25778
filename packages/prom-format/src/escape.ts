// Escaping per the Prometheus text format 0.0.4, done right (the Go writer turns a
// quote into `\\"` and a newline into backslash + real newline; we do not).

const HELP_SPECIAL = /[\\\n]/;
const LABEL_SPECIAL = /[\\"\n]/;

/** True when a HELP text needs escaping (regex test: no allocation on the common path). */
export function helpNeedsEscape(s: string): boolean {
  return HELP_SPECIAL.test(s);
}

/** True when a label value needs escaping. */
export function labelValueNeedsEscape(s: string): boolean {
  return LABEL_SPECIAL.test(s);
}

/** HELP text: `\` -> `\\`, newline -> `\n`. */
export function escapeHelp(s: string): string {
  return HELP_SPECIAL.test(s) ? s.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n')) : s;
}

/** Label value: `\` -> `\\`, `"` -> `\"`, newline -> `\n`. */
export function escapeLabelValue(s: string): string {
  return LABEL_SPECIAL.test(s) ? s.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n')) : s;
}

/** Text inside a `#` comment line: a newline would end the comment, so it is written as `\n`. */
export function escapeComment(s: string): string {
  return s.includes('\n') ? s.replace(/\n/g, '\\n') : s;
}

const OM_HELP_SPECIAL = /[\\"\n]/;

/** OpenMetrics HELP text: like a label value (`\`, `"` and newline escaped). */
export function escapeOpenMetricsHelp(s: string): string {
  return OM_HELP_SPECIAL.test(s) ? escapeLabelValue(s) : s;
}
