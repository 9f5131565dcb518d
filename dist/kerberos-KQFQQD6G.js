import { createRequire as __mlgateRequire } from 'node:module'; const require = __mlgateRequire(import.meta.url);
import {
  __esm
} from "./chunk-4HVYFWLT.js";

// absent-peer:kerberos
var init_kerberos = __esm({
  "absent-peer:kerberos"() {
    throw new Error("kerberos is not bundled with mlgate");
  }
});
init_kerberos();
