// The Worker under test: the service's entry point plus user classes that tests dump and restore.

export * from "../../worker";
export { default } from "../../worker";
export { StarbaseLike } from "./classes/starbase-like";
