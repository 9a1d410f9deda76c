/** The JSON Lines input of `enqueue --file`: one rescan object per non-blank line. */
import { errorMessage } from '../redact';

/** Longest line accepted in an enqueue file, in characters: a line is one rescan. */
export const MAX_LINE_CHARS = 1_048_576;

/**
 * Reads a JSON Lines file (or stdin for `-`): one rescan object per non-blank line. A UTF-8 byte order
 * mark at the start is skipped (as the YAML parser does for schedules files); a line longer than
 * MAX_LINE_CHARS is refused without being parsed.
 */
export function parseJsonLines(text: string): { items: unknown[]; lines: number[]; problems: string[] } {
  const items: unknown[] = [];
  const lines: number[] = [];
  const problems: string[] = [];
  (text.startsWith('\ufeff') ? text.slice(1) : text).split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    if (line.length > MAX_LINE_CHARS) {
      problems.push(`line ${i + 1}: ${line.length} characters; at most ${MAX_LINE_CHARS} per line`);
      return;
    }
    try {
      items.push(JSON.parse(line));
      lines.push(i + 1);
    } catch (err) {
      problems.push(`line ${i + 1}: not valid JSON (${errorMessage(err)})`);
    }
  });
  return { items, lines, problems };
}
