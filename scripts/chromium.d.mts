// Types of chromium.mjs for the TypeScript that uses it (test/support, the benches).
export declare function chromiumPath(): string;
export declare const CHROMIUM_ARGS: readonly string[];
