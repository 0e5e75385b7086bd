import type { ChildProcess } from 'node:child_process';

export declare const ROOT: string;
export declare const BIN: string;
export declare function freePort(): Promise<number>;

export interface ToraProcess {
  url: string;
  port: number;
  dataDir: string;
  pid: number | undefined;
  child: ChildProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export declare function startToraProcess(options?: {
  env?: Record<string, string>;
  dataDir?: string;
  command?: string[];
  cwd?: string;
  stdout?: 'inherit' | 'ignore' | 'pipe';
  timeoutMs?: number;
}): Promise<ToraProcess>;
