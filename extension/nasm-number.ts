// NASM numbers are parsed by the adapter's copy (it reads nasm listings); the extension's language server uses the same.
export * from '../debug-adapter/nasm-number';
