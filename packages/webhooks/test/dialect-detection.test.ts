import * as kysely from "kysely";
import { describeDialectDetection } from "./helpers/dialect-cases.js";

describeDialectDetection("kysely 0.28", kysely);
