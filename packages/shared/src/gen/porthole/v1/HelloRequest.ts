// Original file: proto/porthole/v1/porthole.proto


export interface HelloRequest {
  /**
   * The guest SDK's own version, for the host's logs ("0.1.0").
   */
  'sdkVersion'?: (string);
  /**
   * The contract major version the guest speaks; 0 means 1.
   */
  'protocolMajor'?: (number);
}

export interface HelloRequest__Output {
  /**
   * The guest SDK's own version, for the host's logs ("0.1.0").
   */
  'sdkVersion': (string);
  /**
   * The contract major version the guest speaks; 0 means 1.
   */
  'protocolMajor': (number);
}
