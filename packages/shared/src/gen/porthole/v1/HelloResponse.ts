// Original file: proto/porthole/v1/porthole.proto

import type { Action as _porthole_v1_Action, Action__Output as _porthole_v1_Action__Output } from '../../porthole/v1/Action.js';
import type { Limits as _porthole_v1_Limits, Limits__Output as _porthole_v1_Limits__Output } from '../../porthole/v1/Limits.js';

export interface HelloResponse {
  /**
   * "1.0": major.minor of the contract the host serves.
   */
  'protocolVersion'?: (string);
  /**
   * The sandbox the host bound this connection to, from the transport.
   */
  'sandboxId'?: (string);
  'actions'?: (_porthole_v1_Action)[];
  'limits'?: (_porthole_v1_Limits | null);
  'hostVersion'?: (string);
}

export interface HelloResponse__Output {
  /**
   * "1.0": major.minor of the contract the host serves.
   */
  'protocolVersion': (string);
  /**
   * The sandbox the host bound this connection to, from the transport.
   */
  'sandboxId': (string);
  'actions': (_porthole_v1_Action__Output)[];
  'limits': (_porthole_v1_Limits__Output | null);
  'hostVersion': (string);
}
