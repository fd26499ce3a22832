/**
 * The start-up check every AWS tier kind runs, turned into a {@link TierCheck}:
 * credentials first (unless given in code), then the kind's probe call. A
 * missing resource or a refused identity is misconfiguration (a ConfigError
 * naming the field and the fix); anything else is an outage (a warning).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { TierCheck } from '../../src/contracts/index.js';
import { ConfigError, isUnauthorizedError, type SpillwayError } from '../../src/errors/index.js';
import { classifyAwsError } from './classify.js';
import { checkCredentials } from './credentials.js';

/** What {@link checkAwsTier} needs to know about one tier. */
export interface AwsTierCheckOptions {
  /** Where the tier sits in the configuration, e.g. `primary`. */
  field: string;
  /** A short label such as `kinesis us-east-1/orders`. */
  label: string;
  /** The target id, for classification. */
  target: string;
  region: string;
  /** The field naming the resource (`stream`, `queueUrl`, `eventBusName`) and its value. */
  resource: { field: string; noun: string; name: string };
  /** The client's credential provider; omitted when the configuration gave credentials. */
  credentials?: AwsCredentialIdentityProvider;
  /** The probe call; resolves with a sentence about what it found. */
  probe(signal: AbortSignal): Promise<string>;
  /** Error names (on the classified error's cause) that mean the resource does not exist. */
  notFound: readonly string[];
  /** Milliseconds the credential lookup may take (default 5000). */
  credentialTimeoutMs?: number;
}

/** Run the credential check and the probe; never throws for an unusable tier. */
export async function checkAwsTier(options: AwsTierCheckOptions, signal: AbortSignal): Promise<TierCheck> {
  if (options.credentials) {
    try {
      await checkCredentials({ provider: options.credentials, field: options.field, label: options.label, ...(options.credentialTimeoutMs ? { timeoutMs: options.credentialTimeoutMs } : {}) });
    } catch (error) {
      return { reachable: false, writable: false, detail: (error as Error).message, error: error as SpillwayError };
    }
  }
  try {
    const detail = await options.probe(signal);
    return { reachable: true, writable: true, detail };
  } catch (caught) {
    const error = classifyAwsError(caught, { target: options.target, region: options.region });
    return unusable(options, error);
  }
}

function unusable(options: AwsTierCheckOptions, error: SpillwayError): TierCheck {
  const { field, label, resource, region } = options;
  const causeName = (error.cause as { name?: string } | undefined)?.name ?? '';
  if (isUnauthorizedError(error)) {
    const message = `${field} (${label}): ${causeName || 'access denied'}: this identity may not use ${resource.noun} "${resource.name}" in ${region}; ${error.fix}`;
    return { reachable: true, writable: false, detail: message, error: new ConfigError(message, { field, target: options.target, cause: error }) };
  }
  if (options.notFound.includes(causeName)) {
    const message = `${field}.${resource.field}: ${resource.noun} "${resource.name}" does not exist in ${region}; create it, or fix ${field}.${resource.field} / ${field}.region`;
    return { reachable: true, writable: false, detail: message, error: new ConfigError(message, { field: `${field}.${resource.field}`, target: options.target, cause: error }) };
  }
  // An error the adapter raised itself (no cause) came from an answer, e.g. a stream still CREATING.
  return { reachable: error.cause === undefined, writable: false, detail: `${field} (${label}): not usable now: ${error.message}`, error };
}
