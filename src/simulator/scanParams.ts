/**
 * The parameters of ScanComplianceAssetsByPolicyItem, checked as the API documents them
 * (docs/tcss-api.md): CustomerPolicyItemId (uint64, required), CustomerAssetIdSet (uint64[], required),
 * AssetType (optional enum), nothing else. IDs must also be safe integers: the simulator keeps them as
 * JS numbers, and rejecting anything beyond 2^53 - 1 catches clients that round big IDs.
 */
import { ASSET_TYPES, type AssetType } from '../job';
import { JsonNumber, JsonSyntaxError, parseExactJson, type JsonValue } from './exactJson';

// The API's documented AssetType values are the job contract's (one list, in job.ts).
export { ASSET_TYPES };
export type ScanAssetType = AssetType;

export interface ScanParams {
  policyItemId: number;
  assetIds: number[];
  assetType?: ScanAssetType;
}

export interface ParamError {
  code: 'InvalidParameter' | 'InvalidParameter.MissingParameter' | 'UnknownParameter';
  message: string;
}

export type ScanParamsResult = { ok: true; params: ScanParams } | { ok: false; error: ParamError };

/** The request body as parsed once: a JSON value, or why it is not one. */
export type ParsedBody = { ok: true; value: JsonValue } | { ok: false; message: string };

const KNOWN = new Set(['CustomerPolicyItemId', 'CustomerAssetIdSet', 'AssetType']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseBody(bytes: Uint8Array): ParsedBody {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, message: 'The request body is not valid UTF-8.' };
  }
  try {
    return { ok: true, value: parseExactJson(text) };
  } catch (e) {
    if (e instanceof JsonSyntaxError)
      return { ok: false, message: `The request body is not valid JSON: ${e.message}.` };
    throw e;
  }
}

/** A positive integer no greater than 2^53 - 1 written as plain digits, or undefined. */
export function exactId(value: JsonValue | undefined): number | undefined {
  if (!(value instanceof JsonNumber) || !/^[1-9]\d{0,15}$/.test(value.raw)) return undefined;
  const n = Number(value.raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

function show(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.raw;
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'an array';
  return JSON.stringify(value);
}

const invalid = (message: string): ScanParamsResult => ({ ok: false, error: { code: 'InvalidParameter', message } });
const ID_RULE = `a positive integer no greater than ${Number.MAX_SAFE_INTEGER}`;

/** What could be read from the body, valid or not: for the call log. */
export function readScanFields(body: ParsedBody): Partial<ScanParams> {
  if (!body.ok || !(body.value instanceof Map)) return {};
  const fields: Partial<ScanParams> = {};
  const policyItemId = exactId(body.value.get('CustomerPolicyItemId'));
  if (policyItemId !== undefined) fields.policyItemId = policyItemId;
  const assets = body.value.get('CustomerAssetIdSet');
  if (Array.isArray(assets)) {
    const ids = assets.map(exactId);
    if (ids.every((id): id is number => id !== undefined)) fields.assetIds = ids;
  }
  const assetType = body.value.get('AssetType');
  if (typeof assetType === 'string' && (ASSET_TYPES as readonly string[]).includes(assetType)) {
    fields.assetType = assetType as ScanAssetType;
  }
  return fields;
}

/** The raw CustomerPolicyItemId digits, if the body has a number there (for forced errors). */
export function rawPolicyItemId(body: ParsedBody): string | undefined {
  if (!body.ok || !(body.value instanceof Map)) return undefined;
  const v = body.value.get('CustomerPolicyItemId');
  return v instanceof JsonNumber ? v.raw : undefined;
}

export function validateScanParams(body: ParsedBody): ScanParamsResult {
  if (!body.ok) return invalid(body.message);
  const obj = body.value;
  if (!(obj instanceof Map)) return invalid(`The request body must be a JSON object, got ${show(obj)}.`);

  for (const key of obj.keys()) {
    if (!KNOWN.has(key)) {
      return { ok: false, error: { code: 'UnknownParameter', message: `The parameter \`${key}\` is not recognized.` } };
    }
  }
  const rawItem = obj.get('CustomerPolicyItemId');
  if (rawItem === undefined) {
    return {
      ok: false,
      error: {
        code: 'InvalidParameter.MissingParameter',
        message: 'The request is missing a required parameter `CustomerPolicyItemId`.',
      },
    };
  }
  const policyItemId = exactId(rawItem);
  if (policyItemId === undefined) {
    return invalid(`The value of parameter \`CustomerPolicyItemId\` must be ${ID_RULE}, got ${show(rawItem)}.`);
  }

  const rawAssets = obj.get('CustomerAssetIdSet');
  if (rawAssets === undefined) {
    return {
      ok: false,
      error: {
        code: 'InvalidParameter.MissingParameter',
        message: 'The request is missing a required parameter `CustomerAssetIdSet`.',
      },
    };
  }
  if (!Array.isArray(rawAssets) || rawAssets.length === 0) {
    return invalid(
      `The value of parameter \`CustomerAssetIdSet\` must be a non-empty array of IDs, got ${show(rawAssets)}.`,
    );
  }
  const assetIds: number[] = [];
  for (const [i, raw] of rawAssets.entries()) {
    const id = exactId(raw);
    if (id === undefined)
      return invalid(`The value of parameter \`CustomerAssetIdSet.${i}\` must be ${ID_RULE}, got ${show(raw)}.`);
    assetIds.push(id);
  }

  const params: ScanParams = { policyItemId, assetIds };
  const rawType = obj.get('AssetType');
  if (rawType !== undefined) {
    if (typeof rawType !== 'string' || !(ASSET_TYPES as readonly string[]).includes(rawType)) {
      return invalid(
        `The value of parameter \`AssetType\` must be one of ${ASSET_TYPES.join(', ')}, got ${show(rawType)}.`,
      );
    }
    params.assetType = rawType as ScanAssetType;
  }
  return { ok: true, params };
}
