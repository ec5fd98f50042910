// tsconfig resolves modules the classic Node way, which ignores package.json "exports"; the language client and
// server publish their Node entry points only there. These declarations point TypeScript at the same files
// (esbuild and Node follow "exports" themselves).
declare module 'vscode-languageclient/node' {
  export * from 'vscode-languageclient/lib/node/main';
}
declare module 'vscode-languageserver/node' {
  export * from 'vscode-languageserver/lib/node/main';
}
declare module 'vscode-languageserver-protocol/node' {
  export * from 'vscode-languageserver-protocol/lib/node/main';
}
declare module 'vscode-jsonrpc/node' {
  export * from 'vscode-jsonrpc/lib/node/main';
}
