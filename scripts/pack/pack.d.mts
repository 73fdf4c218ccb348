// Declarations of pack.mjs, for the test that imports it.
export declare const ROOT: string;
export declare const PACKAGES: readonly string[];
export declare function run(cmd: string, args: readonly string[], opts?: { cwd?: string }): Promise<string>;
export declare function packAll(dest: string): Promise<Record<string, string>>;
export declare function removeStaleOutputs(pkgDir: string): string[];
