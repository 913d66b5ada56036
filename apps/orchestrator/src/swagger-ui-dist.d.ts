// swagger-ui-dist ships no types; this is the one function used.
declare module 'swagger-ui-dist' {
  /** The directory holding swagger-ui.css, swagger-ui-bundle.js and the rest. */
  export function getAbsoluteFSPath(): string;
}
