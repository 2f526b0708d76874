// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The bounds in force for this sandbox. 0 means "not enabled" for a quota
 * and "no such action" for a size, never "unlimited".
 */
export interface Limits {
  'maxRequestBodyBytes'?: (number | string | Long);
  'maxResponseBodyBytes'?: (number | string | Long);
  'chunkBytes'?: (number);
  'outputQuotaBytes'?: (number | string | Long);
  'outputQuotaFiles'?: (number);
  'outputMaxFileBytes'?: (number | string | Long);
  'requestsPerSecond'?: (number | string);
  'requestBurst'?: (number);
  'maxConcurrentCalls'?: (number);
  'bytesPerSecond'?: (number | string | Long);
  'fetchTimeoutMs'?: (number);
  'maxRedirects'?: (number);
}

/**
 * The bounds in force for this sandbox. 0 means "not enabled" for a quota
 * and "no such action" for a size, never "unlimited".
 */
export interface Limits__Output {
  'maxRequestBodyBytes': (number);
  'maxResponseBodyBytes': (number);
  'chunkBytes': (number);
  'outputQuotaBytes': (number);
  'outputQuotaFiles': (number);
  'outputMaxFileBytes': (number);
  'requestsPerSecond': (number);
  'requestBurst': (number);
  'maxConcurrentCalls': (number);
  'bytesPerSecond': (number);
  'fetchTimeoutMs': (number);
  'maxRedirects': (number);
}
