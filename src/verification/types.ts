import type { Gender } from '../domain/idNumber.js';
import type { NameLevel } from '../domain/names.js';
import type { DateMatch } from '../domain/dates.js';
import type { CardState } from '../domain/card.js';
import type { ErrorBody } from '../errors.js';

/**
 * What a client claims about a citizen identified by ID number (already validated).
 * `idNumber` is the 12-digit number, or a 9-digit legacy (CMND) number that identifies
 * the citizen through the legacy numbers on record.
 */
export interface IdClaim {
  idNumber: string;
  fullName: string;
  dateOfBirth: string;
  gender?: Gender;
  placeOfOrigin?: string;
  placeOfResidence?: string;
  legacyIdNumber?: string;
  cardIssueDate?: string;
}

export interface DemographicQuery {
  fullName: string;
  dateOfBirth: string;
  gender?: Gender;
  provinceCode?: string;
}

export interface MatchOptions {
  nameThreshold: number;
  /** Demographic search: how many candidates to list, best first. */
  maxCandidates: number;
}

export type WorkItem =
  | { type: 'id'; claim: IdClaim; options: MatchOptions }
  /** `client`: whose search it is; the candidates' references are sealed for that client alone. */
  | { type: 'demographic'; query: DemographicQuery; options: MatchOptions; client?: string };

export interface FieldResults {
  fullName?: { match: boolean; level: NameLevel; score: number };
  dateOfBirth?: DateMatch;
  gender?: { match: boolean };
  legacyIdNumber?: { match: boolean };
  cardIssueDate?: { match: boolean };
  placeOfOrigin?: { match: boolean; score: number };
  placeOfResidence?: { match: boolean; score: number };
}

/**
 * Who an answer is about, for the probing guard and the audit trail only: the ID numbers
 * of the citizens it reached. Taken off before the answer is sent (verifications.ts).
 */
export interface Subjects {
  subjects?: string[];
  /** A search's name blocks looked up, both passes: its work, charged to the client's rate by its weight (verifications.ts). */
  lookups?: number;
}

export type IdResult = (
  | {
      /** `partial`: nothing contradicts, but the register holds the date of birth less precisely than claimed. */
      result: 'match' | 'partial';
      fields: FieldResults;
      status: { alive: boolean; card: CardState };
      identifiedBy?: 'legacyIdNumber';
    }
  /** No status: it is told only about the person the claim identifies. */
  | { result: 'mismatch'; fields: FieldResults; identifiedBy?: 'legacyIdNumber' }
  | { result: 'not_found'; fields: Record<string, never> }
) &
  Subjects;

export interface DemographicResult extends Subjects {
  result: 'unique' | 'ambiguous' | 'none';
  /** Everyone who agrees; `candidates` lists the first `maxCandidates` of them. */
  total: number;
  /** An opaque reference per person (candidateRef.ts), never digits of the ID number. */
  candidates: { candidateRef: string; score: number }[];
}

export type WorkResult = IdResult | DemographicResult | ErrorBody;
