export * from './function-code';
export * from './momento-key-rotator';
export * from './momento-token-rotator-stack';
