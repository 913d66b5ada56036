// stopword 3.x ships no types: what this app reads of it (one list per ISO 639-3 code, eng … zul).
declare module 'stopword' {
  export const eng: string[];
}
