/**
 * docs/configuration.md, generated from the schema (schema.ts): every variable with its default, what
 * it accepts and what it is for. `npm run docs:config` writes it (scripts/config-reference.js); a test
 * fails when the file, `.env.example` and the schema disagree.
 */
import { allowedOf, defaultOf } from './parsers';
import { SECTIONS, VARIABLES, type Variable } from './schema';

/**
 * Variables that appear in the docs or `.env.example` but are not parsed by the schema: set by the
 * platform and read by the credential providers, or read by docker compose only.
 */
export const OTHER_VARIABLES: Readonly<Record<string, string>> = {
  TKE_ROLE_ARN:
    "Set by TKE's workload identity, read by the SDK's OIDC provider (`oidc`). With `TKE_PROVIDER_ID` and `TKE_WEB_IDENTITY_TOKEN_FILE` also set, `auto` picks `oidc`.",
  TKE_PROVIDER_ID: "Set by TKE's workload identity, read by the SDK's OIDC provider.",
  TKE_WEB_IDENTITY_TOKEN_FILE: "Set by TKE's workload identity, read by the SDK's OIDC provider.",
  TKE_REGION: "Set by TKE's workload identity, read by the SDK's OIDC provider.",
  REDIS_PASSWORD:
    'docker compose only, not read by tcss-rescan: the password its Redis requires (URL-safe characters); compose builds `REDIS_URL` from it.',
};

/** The markdown reference, ending with a newline. */
export function configReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`: edit the schema, not this file. -->',
    '',
    'tcss-rescan reads environment variables, and a `.env` file in the working directory (the environment',
    'wins). Every variable is optional, and empty means unset. A bad value stops start-up with a message',
    'naming the variable, what was expected and what was received; the values of secrets are never shown.',
    '[`.env.example`](../.env.example) lists them all with comments.',
  ];
  const variables = Object.entries(VARIABLES as Record<string, Variable>);
  for (const [section, title] of Object.entries(SECTIONS)) {
    lines.push('', `## ${title}`, '', '| Variable | Default | Allowed | Description |', '| --- | --- | --- | --- |');
    for (const [name, v] of variables) if (v.section === section) lines.push(row(name, v));
  }
  lines.push(
    '',
    '## Read by others',
    '',
    'Not parsed by tcss-rescan itself:',
    '',
    '| Variable | Description |',
    '| --- | --- |',
  );
  for (const [name, doc] of Object.entries(OTHER_VARIABLES)) lines.push(`| \`${name}\` | ${cell(doc)} |`);
  return lines.join('\n') + '\n';
}

function row(name: string, v: Variable): string {
  const allowed = v.allowed ?? allowedOf(v.schema);
  if (allowed === undefined)
    throw new Error(`${name}: the schema does not say what it accepts; give it \`allowed\` in src/config/schema.ts`);
  const byDefault = defaultOf(v.schema);
  const shownDefault = byDefault !== undefined ? `\`${byDefault}\`` : v.unset !== undefined ? `unset: ${v.unset}` : '—';
  const doc = v.secret === true ? `${v.doc} Secret: never shown in messages.` : v.doc;
  return `| \`${name}\` | ${cell(shownDefault)} | ${cell(allowed)} | ${cell(doc)} |`;
}

/** Text safe in a table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
