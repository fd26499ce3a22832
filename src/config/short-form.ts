/**
 * The short form for the common case: one Kinesis stream name over a list of
 * regions. `{ stream, regions: [a, b, …], endpoints?, spool }` becomes a
 * Kinesis primary in `a` and a Kinesis secondary of the same name in each
 * next region.
 */
import { z } from 'zod';
import { awsCredentialsField, awsEndpointField, awsRegionField } from '../../adapters/aws/fields.js';
import { commonShape } from './schema.js';

/** Keys that only the short form has. */
const SHORT_ONLY = ['stream', 'regions', 'endpoints'] as const;
/** Keys that only the long form has. */
const LONG_ONLY = ['primary', 'secondaries'] as const;

/** True when `input` is written in the short form. */
export function isShortForm(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && SHORT_ONLY.some((k) => k in input) && !LONG_ONLY.some((k) => k in input);
}

/** True when `input` mixes keys of both forms. */
export function mixesForms(input: unknown): boolean {
  return typeof input === 'object' && input !== null && SHORT_ONLY.some((k) => k in input) && LONG_ONLY.some((k) => k in input);
}

/** The short form's own schema (the spool and the common sections are checked after expansion). */
export const shortFormSchema = z
  .object({
    stream: z.string({ error: 'stream is required in the short form: the Kinesis stream name in every region' }),
    regions: z.array(awsRegionField()).min(1, { error: 'regions needs at least one region; the first is the primary' }),
    endpoints: z.record(z.string(), awsEndpointField()).optional(),
    credentials: awsCredentialsField().optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
    spool: z.unknown(),
    ...commonShape,
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const region of Object.keys(value.endpoints ?? {})) {
      if (!value.regions.includes(region)) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', region], message: `"${region}" is not one of regions (${value.regions.join(', ')}); add it to regions or remove this endpoint` });
      }
    }
    const seen = new Set<string>();
    value.regions.forEach((region, i) => {
      if (seen.has(region)) ctx.addIssue({ code: 'custom', path: ['regions', i], message: `"${region}" is listed twice; each region holds one tier` });
      seen.add(region);
    });
  });

/** Expand a validated short form into the long form. */
export function expandShortForm(short: z.output<typeof shortFormSchema>, raw: Record<string, unknown>): Record<string, unknown> {
  const tier = (region: string) => ({
    kind: 'kinesis',
    region,
    stream: short.stream,
    ...(short.endpoints?.[region] ? { endpoint: short.endpoints[region] } : {}),
    ...(short.credentials ? { credentials: short.credentials } : {}),
    ...(short.requestTimeoutMs ? { requestTimeoutMs: short.requestTimeoutMs } : {}),
  });
  const [first, ...rest] = short.regions as [string, ...string[]];
  const long: Record<string, unknown> = { primary: tier(first), secondaries: rest.map(tier) };
  // The common sections go through the long-form schema untouched (defaults are applied there).
  for (const [key, value] of Object.entries(raw)) if (!SHORT_ONLY.includes(key as never) && key !== 'credentials' && key !== 'requestTimeoutMs') long[key] = value;
  return long;
}
