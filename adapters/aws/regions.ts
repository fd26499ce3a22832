/**
 * Every AWS region spillway accepts in a configuration, by partition: the one
 * data file to edit when AWS opens a region. (A TypeScript module rather than
 * JSON so the build carries it without extra steps.)
 */
export const AWS_REGIONS: Readonly<Record<string, readonly string[]>> = {
  aws: [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
    'af-south-1',
    'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
    'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
    'ca-central-1', 'ca-west-1',
    'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1',
    'il-central-1', 'me-south-1', 'me-central-1', 'mx-central-1', 'sa-east-1',
  ],
  'aws-us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
  'aws-eusc': ['eusc-de-east-1'],
};

/** Every region of every partition, flat. */
export const ALL_AWS_REGIONS: readonly string[] = Object.values(AWS_REGIONS).flat();

const KNOWN = new Set(ALL_AWS_REGIONS);

/** True when `name` is a region in {@link AWS_REGIONS}. */
export function isAwsRegion(name: string): boolean {
  return KNOWN.has(name);
}
