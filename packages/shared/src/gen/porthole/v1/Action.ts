// Original file: proto/porthole/v1/porthole.proto

export const Action = {
  ACTION_UNSPECIFIED: 'ACTION_UNSPECIFIED',
  FETCH_URL: 'FETCH_URL',
  LIST_ARTIFACTS: 'LIST_ARTIFACTS',
  READ_ARTIFACT: 'READ_ARTIFACT',
  WRITE_OUTPUT: 'WRITE_OUTPUT',
} as const;

export type Action =
  | 'ACTION_UNSPECIFIED'
  | 0
  | 'FETCH_URL'
  | 1
  | 'LIST_ARTIFACTS'
  | 2
  | 'READ_ARTIFACT'
  | 3
  | 'WRITE_OUTPUT'
  | 4

export type Action__Output = typeof Action[keyof typeof Action]
