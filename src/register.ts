// `node --import waitgraph/register app.js`: tracking on for the whole program, with the policy
// from WAITGRAPH=off|log|throw|silent. (Instrumentation of third-party libraries as they load is
// added by src/adapters/instrument.ts.)
import "./index.js";
