import { FerryError } from "../../src/index.js";

/** Awaits `promise` and returns the FerryError it rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
