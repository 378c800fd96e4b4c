import { DEFAULT_DB_PATH } from "@spaces/eventstore"
import { Config, Option } from "effect"

/**
 * Where the read models live: `SPACES_VIEWS_PATH`, else beside the event log's SQLite file
 * (`spaces.sqlite` → `spaces.views.sqlite`), else `./.data/spaces.views.sqlite`.
 */
export const viewsPathConfig: Config.Config<string> = Config.all({
  views: Config.option(Config.nonEmptyString("SPACES_VIEWS_PATH")),
  db: Config.withDefault(Config.nonEmptyString("SPACES_DB_PATH"), DEFAULT_DB_PATH)
}).pipe(
  Config.map(({ views, db }) =>
    Option.getOrElse(
      views,
      () => (db.endsWith(".sqlite") ? db.slice(0, -".sqlite".length) : db) + ".views.sqlite"
    )
  )
)
