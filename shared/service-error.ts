// A request the service refuses or cannot serve now, said without HTTP: the API maps each kind
// of failure to a status code (api/http.ts).

export type ServiceFailure =
  | "invalid" // the request itself is wrong
  | "forbidden" // allowed to no one, e.g. restoring into a read-only source
  | "not_found"
  | "conflict" // the job or database is not in a state that allows it
  | "gone" // it existed, and was deleted on purpose
  | "unavailable"; // a part of the service could not answer; trying again may work

export class ServiceError extends Error {
  constructor(
    readonly failure: ServiceFailure,
    message: string,
    /** Extra fields for the error body, e.g. the job's status. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ServiceError";
  }
}
