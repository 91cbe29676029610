export type * from './converter.ts';
export type * from './records.ts';
export type * from './sink.ts';
export type * from './source.ts';
