/**
 * Start-up credential check: resolve the credentials an SDK client will sign
 * with (its default provider chain) and turn a failure into a ConfigError
 * that names the tier and where the chain looked. Never prints a secret.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ConfigError } from '../../src/errors/index.js';

/** Options for {@link checkCredentials}. */
export interface CredentialCheckOptions {
  /** The client's credential provider (`client.config.credentials`). */
  provider: AwsCredentialIdentityProvider;
  /** Where the tier sits in the configuration, e.g. `secondaries.0`. */
  field: string;
  /** A short label such as `kinesis us-east-1/orders`. */
  label: string;
  /** Give up after this long (the instance-metadata lookup can hang off AWS). Default 5000 ms. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Where the SDK's default provider chain looks, in order, as a sentence (no values, only names and paths). */
export function describeProviderChain(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME ?? '~';
  const profile = env.AWS_PROFILE ?? 'default';
  const imds = env.AWS_EC2_METADATA_DISABLED === 'true' ? 'EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)' : 'EC2 instance metadata';
  return [
    'environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    `profile "${profile}" in ${env.AWS_SHARED_CREDENTIALS_FILE ?? `${home}/.aws/credentials`} and ${env.AWS_CONFIG_FILE ?? `${home}/.aws/config`} (SSO, credential_process, role_arn)`,
    env.AWS_WEB_IDENTITY_TOKEN_FILE ? 'the web identity token in AWS_WEB_IDENTITY_TOKEN_FILE' : 'a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE unset)',
    'ECS container credentials',
    imds,
  ].join('; ');
}

/**
 * Resolve credentials once. Resolves when the chain yields an access key;
 * throws a {@link ConfigError} naming the tier, where the chain looked and
 * the fix when it fails or takes longer than `timeoutMs`.
 */
export async function checkCredentials(options: CredentialCheckOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  let reason: string;
  try {
    const outcome = await Promise.race([options.provider(), timeout]);
    if (outcome !== 'timeout' && outcome.accessKeyId) return;
    reason = outcome === 'timeout' ? `the chain did not answer within ${timeoutMs} ms` : 'the chain returned no access key';
  } catch (error) {
    reason = (error as Error).message.split('\n')[0] ?? 'the chain failed';
  } finally {
    clearTimeout(timer);
  }
  throw new ConfigError(
    `${options.field} (${options.label}): no AWS credentials could be resolved (${reason}). ` +
      `The provider chain looked at: ${describeProviderChain(options.env)}. ` +
      `Fix: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run on a machine with an instance or task role, or pass ${options.field}.credentials from code`,
    { field: `${options.field}.credentials` },
  );
}
