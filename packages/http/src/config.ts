/** The server's and the transcriber's configuration, from environment variables (see `config/`). */
export * from "./config/load.js"
export * from "./config/transcriber.js"
export * from "./config/types.js"
