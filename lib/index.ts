export * from './momento-key-rotator';
export * from './momento-token-rotator-stack';
