import { DEFAULT_DB_PATH } from "@spaces/eventstore"
import { Config, Option } from "effect"

/**
 * The views file beside an SQLite event log: `spaces.sqlite` → `spaces.views.sqlite`, `log.db` →
 * `log.views.sqlite`, `log` → `log.views.sqlite`. The server and the `spaces` CLI both derive it
 * here, so they always open the same file.
 */
export const viewsPathBeside = (logPath: string): string =>
  logPath.replace(/(\.sqlite3?|\.db)?$/, ".views.sqlite")

/**
 * Where the read models live: `SPACES_VIEWS_PATH`, else beside the event log's SQLite file
 * (`viewsPathBeside`), else `./.data/spaces.views.sqlite`.
 */
export const viewsPathConfig: Config.Config<string> = Config.all({
  views: Config.option(Config.nonEmptyString("SPACES_VIEWS_PATH")),
  db: Config.withDefault(Config.nonEmptyString("SPACES_DB_PATH"), DEFAULT_DB_PATH)
}).pipe(Config.map(({ views, db }) => Option.getOrElse(views, () => viewsPathBeside(db))))
