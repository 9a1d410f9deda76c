/**
 * Text that echoes input back to a terminal: control characters shown as escapes, so a hostile file
 * or argument cannot move the cursor, recolour the screen, rewrite earlier lines (ESC, CSI, CR,
 * backspace) or reorder what is shown (bidirectional overrides).
 */

// C0 controls except tab and newline, DEL, C1 controls (U+009B is a one-character CSI), line and
// paragraph separators, and the bidirectional marks, embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is what this module is for
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// In a single-line message newlines and tabs are escaped too.
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One line of text safe to print: every control character (newlines included) as a `\uXXXX` escape. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS_AND_NEWLINES, escape);
}

/** Several lines safe to print: as escapeControls, but newlines and tabs kept. */
export function escapeControlsKeepLines(text: string): string {
  return text.replace(CONTROLS, escape);
}

/**
 * JSON for a terminal: JSON.stringify escapes U+0000 to U+001F but leaves DEL, C1 controls and the
 * bidirectional characters raw; they can only occur inside strings, where `\uXXXX` is valid JSON.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(CONTROLS, escape);
}
