/** Stages a test VM's /mnt/app: agent files plus @porthole/guest (and @porthole/host) with their dependencies. */
export declare function stageApp(name: string, files: string[], options?: { host?: boolean }): string;
