/**
 * The schedules file format: YAML -> validated entries, each with the job schedulers it becomes.
 * Every problem in the file is found before anything is changed, each prefixed with its entry's name.
 */
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ValidationError, parseRescanJobData, parseRescanRequest, splitRescan } from '../job';
import { cronProblem, firesMoreThanOncePerMinute, isTimeZone } from './cron';
import {
  DEFAULT_TIMEZONE,
  NAME_RE,
  SCHEDULE_BATCH_PREFIX,
  SchedulesError,
  isPlainObject,
  type ScheduleEntry,
  type SchedulePart,
} from './entry';
import { quoteValue } from '../problems';
import { errorMessage } from '../redact';

const ENTRY_FIELDS = ['name', 'cron', 'timezone', 'policyItemId', 'assetIds', 'assetType'] as const;
const RESCAN_FIELDS = ['policyItemId', 'assetIds', 'assetType'] as const;

export interface ParseSchedulesOptions {
  /** Most assets per job (TCSS_MAX_ASSETS_PER_CALL); larger entries become several schedulers. */
  maxAssetsPerCall: number;
  /**
   * Accept patterns that fire more than once a minute (a seconds field with several values, such as
   * "*\/10 * * * * *"). Default false: such a schedule is almost always a mistake, and at 20 req/s
   * a few of them would use up the whole budget. The CLI's `--allow-sub-minute`.
   */
  allowSubMinute?: boolean;
}

const entrySchema = z.strictObject(
  {
    name: z
      .string({
        error: (iss) =>
          iss.input === undefined ? 'name is required' : `name must be a string, got ${quoteValue(iss.input)}`,
      })
      .regex(NAME_RE, {
        error: (iss) => `name must be 1 to 100 letters, digits, _ . or -, got ${quoteValue(iss.input)}`,
      }),
    cron: z
      .string({
        error: (iss) =>
          iss.input === undefined
            ? 'cron is required'
            : `cron must be a quoted string such as "0 2 * * *", got ${quoteValue(iss.input)}`,
      })
      .superRefine((cron, ctx) => {
        const p = cronProblem(cron, DEFAULT_TIMEZONE);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    timezone: z
      .string({
        error: (iss) => `timezone must be an IANA time zone such as Asia/Shanghai, got ${quoteValue(iss.input)}`,
      })
      .refine(isTimeZone, {
        error: (iss) => `timezone must be an IANA time zone such as Asia/Shanghai, got ${quoteValue(iss.input)}`,
      })
      .optional(),
    // Checked by the job contract (parseRescanRequest), so the messages are the ones enqueue gives.
    policyItemId: z.unknown().optional(),
    assetIds: z.unknown().optional(),
    assetType: z.unknown().optional(),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? undefined : 'an entry must be a mapping') },
);

/** Validates one entry; its problems (unprefixed) or the entry. */
function parseEntry(
  raw: unknown,
  maxAssetsPerCall: number,
  allowSubMinute: boolean,
): { entry?: ScheduleEntry; problems: string[] } {
  if (!isPlainObject(raw)) {
    return {
      problems: [
        `an entry must be a mapping with name, cron, policyItemId, assetIds (and optionally timezone, assetType), got ${quoteValue(raw)}`,
      ],
    };
  }
  const problems: string[] = [];
  const fields = entrySchema.safeParse(raw);
  if (!fields.success) {
    for (const issue of fields.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
        problems.push(`unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${ENTRY_FIELDS.join(', ')})`);
      } else {
        problems.push(issue.message);
      }
    }
  }
  const timezone = typeof raw.timezone === 'string' && isTimeZone(raw.timezone) ? raw.timezone : undefined;
  // The pattern was checked in UTC; a zone Intl knows but cron-parser does not is caught here.
  if (timezone !== undefined && typeof raw.cron === 'string' && cronProblem(raw.cron, DEFAULT_TIMEZONE) === undefined) {
    const p = cronProblem(raw.cron, timezone);
    if (p) problems.push(`timezone ${quoteValue(timezone)} cannot be used with cron ${quoteValue(raw.cron)}: ${p}`);
  }

  const rescan: Record<string, unknown> = {};
  for (const k of RESCAN_FIELDS) if (k in raw) rescan[k] = raw[k];
  let request: ReturnType<typeof parseRescanRequest> | undefined;
  try {
    request = parseRescanRequest(rescan);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !fields.success || !request) return { problems };

  const { name, cron } = fields.data;
  if (!allowSubMinute && firesMoreThanOncePerMinute(cron, timezone ?? DEFAULT_TIMEZONE)) {
    return {
      problems: [
        `cron ${quoteValue(cron)} fires more than once a minute; allow it with --allow-sub-minute (option allowSubMinute) if that is really meant`,
      ],
    };
  }
  const parts = planParts(name, request, maxAssetsPerCall);
  return {
    problems: [],
    entry: {
      name,
      cron,
      timezone: fields.data.timezone ?? DEFAULT_TIMEZONE,
      policyItemId: request.policyItemId,
      assetIds: [...new Set(request.assetIds)],
      ...(request.assetType !== undefined ? { assetType: request.assetType } : {}),
      parts,
    },
  };
}

/** Splits like enqueue does (splitRescan), with the batch id `schedule:<name>` and ids `<name>#k`. */
function planParts(
  name: string,
  request: ReturnType<typeof parseRescanRequest>,
  maxAssetsPerCall: number,
): SchedulePart[] {
  const chunks = splitRescan(request, maxAssetsPerCall, () => `${SCHEDULE_BATCH_PREFIX}${name}`);
  return chunks.map((data, i) => ({
    id: chunks.length === 1 ? name : `${name}#${i + 1}`,
    data: parseRescanJobData(data),
  }));
}

/** Largest schedules file accepted, and deepest flow nesting ([ or {) in it. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_NESTING = 64;

/** The line where `[`/`{` nesting first goes deeper than MAX_NESTING (outside quotes and comments). */
function deepestNesting(text: string): { line: number } | undefined {
  let depth = 0;
  let line = 1;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === quote && text[i - 1] !== '\\') quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING) return { line };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/**
 * Parses and validates a schedules file. Throws SchedulesError listing every problem, each prefixed
 * with the entry's name (`entry #N` when the name is missing or bad); YAML syntax errors give the line.
 */
export function parseSchedulesFile(text: string, opts: ParseSchedulesOptions): ScheduleEntry[] {
  const max = opts.maxAssetsPerCall;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`Expected \`maxAssetsPerCall\` to be a whole number from 1 and up, got ${quoteValue(max)}`);
  }
  // The YAML parser recurses: a hostile file (huge, or nested thousands deep) must be refused before it.
  const tooDeep = deepestNesting(text);
  if (text.length > MAX_FILE_BYTES)
    throw new SchedulesError([`the file is ${text.length} bytes; at most ${MAX_FILE_BYTES} are accepted`]);
  if (tooDeep)
    throw new SchedulesError([`invalid YAML at line ${tooDeep.line}: nested more than ${MAX_NESTING} levels deep`]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      // An unquoted `cron: */5 * * * *` reads as YAML aliases.
      const hint =
        e.code === 'BAD_ALIAS' || /alias/i.test(e.message) ? ' (quote cron patterns: cron: "*/5 * * * *")' : '';
      return { line, text: `invalid YAML at line ${line}, column ${col}: ${e.message.split('\n')[0]}${hint}` };
    });
    // One problem per line is enough (a bad line often yields several errors).
    throw new SchedulesError(
      problems.filter((p, i) => problems.findIndex((q) => q.line === p.line) === i).map((p) => p.text),
    );
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SchedulesError([`invalid YAML: ${errorMessage(err)}`]);
  }

  if (!isPlainObject(root)) {
    throw new SchedulesError([`the file must be a mapping with a "schedules" list, got ${quoteValue(root)}`]);
  }
  const problems: string[] = [];
  const extra = Object.keys(root).filter((k) => k !== 'schedules');
  if (extra.length > 0)
    problems.push(
      `unknown top-level field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} (allowed: schedules)`,
    );
  const list = root.schedules;
  if (!Array.isArray(list)) {
    problems.push(
      list === undefined
        ? 'schedules is required: a list of entries'
        : `schedules must be a list of entries, got ${quoteValue(list)}`,
    );
    throw new SchedulesError(problems);
  }

  const entries: ScheduleEntry[] = [];
  const byName = new Map<string, number[]>();
  list.forEach((raw, i) => {
    const rawName = isPlainObject(raw) ? raw.name : undefined;
    const named = typeof rawName === 'string' && NAME_RE.test(rawName);
    const label = named ? rawName : `entry #${i + 1}`;
    if (named) byName.set(rawName, [...(byName.get(rawName) ?? []), i + 1]);
    const r = parseEntry(raw, max, opts.allowSubMinute === true);
    for (const p of r.problems) problems.push(`${label}: ${p}`);
    if (r.entry) entries.push(r.entry);
  });
  for (const [name, at] of byName) {
    if (at.length > 1)
      problems.push(`${name}: duplicate name (entries ${at.map((n) => `#${n}`).join(', ')}); names must be unique`);
  }
  if (problems.length > 0) throw new SchedulesError(problems);
  return entries;
}
