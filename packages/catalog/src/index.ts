export * from './steps';
export * from './models';
export * from './payloads';
export * from './results';
export * from './errors';
export * from './job-options';
export * from './dead-letter';
export * from './media-type';
