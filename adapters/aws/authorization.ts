/**
 * Authorization and credential failures of AWS calls: which error names mean
 * "who we are was refused", and the fix to print for each service.
 */

/** Error names that mean the identity was refused (not an outage; retrying cannot help). */
const UNAUTHORIZED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'RequestExpired',
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'CredentialsProviderError',
  'KMSAccessDeniedException',
]);

/** True for an error name that means the identity was refused or could not be resolved. */
export function isAuthorizationFailure(name: string): boolean {
  return UNAUTHORIZED.has(name);
}

/** IAM actions each tier kind needs, keyed by the target id prefix (`kinesis:…`, `sqs:…`). */
const PERMISSIONS: Record<string, string> = {
  kinesis: 'kinesis:PutRecords, kinesis:DescribeStreamSummary, kinesis:ListShards, kinesis:GetShardIterator and kinesis:GetRecords',
  sqs: 'sqs:SendMessage, sqs:GetQueueAttributes, sqs:ReceiveMessage and sqs:DeleteMessage',
  eventbridge: 'events:PutEvents and events:DescribeEventBus',
};

/** The IAM actions a target needs, from its id; a generic phrase for an unknown kind. */
export function permissionsFor(target: string): string {
  return PERMISSIONS[target.split(':')[0] ?? ''] ?? 'write permission on it';
}

/** What to do about an authorization failure of `name` on `target`. */
export function authorizationFix(name: string, target: string): string {
  if (name === 'CredentialsProviderError') {
    return 'no credentials could be resolved: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the host an instance or task role';
  }
  if (/Expired/.test(name)) return 'the session token has expired: renew the credentials (aws sso login, or refresh the role session)';
  if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId' || /Signature/.test(name)) {
    return 'the access key is not known to AWS in this region or the secret is wrong: check the profile or keys in use';
  }
  if (name === 'KMSAccessDeniedException') return 'grant this identity kms:GenerateDataKey on the key that encrypts the target';
  return `grant this identity ${permissionsFor(target)} on ${target}`;
}
