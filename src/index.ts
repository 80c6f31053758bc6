// Brook's public entry point: re-exports the pieces other packages use.
export {};
