/**
 * The configuration reference agrees with the schema (src/config/schema.ts): docs/configuration.md is
 * what the generator writes today, every documented default is the default loadConfig applies, and
 * `.env.example` lists every variable (no others) under a comment, with the defaults as its values.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, loadConfig } from '../src/config';
import { allowedOf, defaultOf } from '../src/config/parsers';
import { configReference, OTHER_VARIABLES } from '../src/config/reference';
import { VARIABLES, type Variable } from '../src/config/schema';

const root = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const variables = VARIABLES as Record<string, Variable>;

interface ExampleLine {
  value: string;
  /** `# NAME=value`: shown, not set. */
  commented: boolean;
  /** The prose comment above the block of variable lines this one is in. */
  comment: string[];
}

/** `.env.example`'s variable lines (`NAME=value` or `# NAME=value`); a name twice is an error. */
function exampleLines(text: string): Map<string, ExampleLine> {
  const out = new Map<string, ExampleLine>();
  let prose: string[] = [];
  let afterVariable = false;
  for (const line of text.split(/\r?\n/)) {
    const m = /^(# ?)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (line.trim() === '') {
      prose = [];
      afterVariable = false;
    } else if (m) {
      if (out.has(m[2]!)) throw new Error(`.env.example names ${m[2]} twice`);
      out.set(m[2]!, { value: m[3]!, commented: m[1] !== undefined, comment: prose });
      afterVariable = true;
    } else if (line.startsWith('#')) {
      if (afterVariable) prose = [];
      prose = [...prose, line.replace(/^# ?/, '')];
      afterVariable = false;
    } else {
      throw new Error(`.env.example: neither a comment nor NAME=value: ${JSON.stringify(line)}`);
    }
  }
  return out;
}

describe('docs/configuration.md', () => {
  test('is what the generator writes from the schema (regenerate with `npm run docs:config`)', () => {
    expect(read('docs/configuration.md')).toBe(configReference());
  });

  test('has one row per variable the schema reads, and one per variable read by others', () => {
    const rows = [...read('docs/configuration.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect([...rows].sort()).toEqual([...CONFIG_VARIABLES, ...Object.keys(OTHER_VARIABLES)].sort());
    for (const name of Object.keys(OTHER_VARIABLES)) expect(CONFIG_VARIABLES).not.toContain(name);
  });

  test('each documented default is what loadConfig uses when the variable is unset', () => {
    const unset = loadConfig({});
    const withDefaults = Object.entries(variables).filter(([, v]) => defaultOf(v.schema) !== undefined);
    expect(withDefaults.length).toBeGreaterThan(30);
    for (const [name, v] of withDefaults)
      expect({ name, config: loadConfig({ [name]: defaultOf(v.schema) }) }).toEqual({ name, config: unset });
  });

  test('every variable says what it is for', () => {
    for (const [name, v] of Object.entries(variables))
      expect({ name, doc: v.doc.trim().length > 10 }).toEqual({ name, doc: true });
  });
});

describe('.env.example', () => {
  const lines = exampleLines(read('.env.example'));

  test('names every variable the schema reads, and no other except those documented as read by others', () => {
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(10);
    expect(CONFIG_VARIABLES.filter((name) => !lines.has(name))).toEqual([]);
    expect([...lines.keys()].filter((name) => !CONFIG_VARIABLES.includes(name) && !(name in OTHER_VARIABLES))).toEqual(
      [],
    );
  });

  test('every variable is under a comment', () => {
    for (const [name, line] of lines)
      expect({ name, commented: line.comment.join(' ').trim() !== '' }).toEqual({ name, commented: true });
  });

  test('a variable set in it (not commented out) is set to its default, or empty when it has none', () => {
    const set = [...lines].filter(([name, l]) => !l.commented && CONFIG_VARIABLES.includes(name));
    expect(set.length).toBeGreaterThan(30);
    for (const [name, l] of set)
      expect({ name, value: l.value }).toEqual({ name, value: defaultOf(variables[name]!.schema) ?? '' });
    // Copied as it is, it loads, and means what an empty environment means.
    expect(loadConfig(Object.fromEntries(set.map(([name, l]) => [name, l.value])))).toEqual(loadConfig({}));
  });

  test('the checks above notice a variable without a comment, or one named twice', () => {
    expect(exampleLines('# Comment.\nA=1\nB=2\n\nC=3\n').get('C')?.comment).toEqual([]);
    expect(exampleLines('# Comment.\nA=1\nB=2\n').get('B')?.comment).toEqual(['Comment.']);
    expect(() => exampleLines('A=1\n# A=2\n')).toThrow(/twice/);
  });
});

test('the generator refuses a variable that does not say what it accepts', () => {
  // A schema the parsers did not make, without `allowed`: the reference cannot say what it takes.
  const name = CONFIG_VARIABLES.find(
    (n) => variables[n]!.allowed !== undefined && allowedOf(variables[n]!.schema) === undefined,
  )!;
  const saved = variables[name]!.allowed;
  try {
    delete variables[name]!.allowed;
    expect(() => configReference()).toThrow(new RegExp(`^${name}: `));
  } finally {
    variables[name]!.allowed = saved;
  }
  expect(() => configReference()).not.toThrow();
});
