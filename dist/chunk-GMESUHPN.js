import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);

// src/signing/errors.ts
var SigningServiceError = class extends Error {
  name = "SigningServiceError";
};

export {
  SigningServiceError
};
