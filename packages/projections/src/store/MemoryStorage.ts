import {
  type Checkpoint,
  DELETED,
  type ProjectionStore,
  type ReadView,
  type Storage,
  type Writes
} from "./Storage.js"

/** Read models in memory: for tests and embedding. Values are kept as given (not copied). */
export const makeMemoryStorage = (): Storage => {
  const projections = new Map<string, ProjectionStore>()

  const make = (): ProjectionStore => {
    // table → partition → id → value
    let tables = new Map<string, Map<string, Map<string, unknown>>>()
    let checkpoint: Checkpoint | undefined

    const read: ReadView = {
      get: <V>(table: string, part: string, id: string) =>
        tables.get(table)?.get(part)?.get(id) as V | undefined,
      scan: <V>(table: string, part: string) => {
        const rows = tables.get(table)?.get(part)
        return rows === undefined ? [] : ([...rows] as Array<readonly [string, V]>)
      }
    }

    const apply = (writes: Writes) => {
      for (const [table, parts] of writes) {
        let stored = tables.get(table)
        if (stored === undefined) {
          stored = new Map()
          tables.set(table, stored)
        }
        for (const [part, rows] of parts) {
          let partition = stored.get(part)
          for (const [id, value] of rows) {
            if (value === DELETED) {
              partition?.delete(id)
            } else {
              if (partition === undefined) {
                partition = new Map()
                stored.set(part, partition)
              }
              partition.set(id, value)
            }
          }
          if (partition !== undefined && partition.size === 0) stored.delete(part)
        }
      }
    }

    return {
      read,
      checkpoint: () => checkpoint,
      reset: (version) => {
        tables = new Map()
        checkpoint = { version, position: 0, error: null }
      },
      commit: (writes, from, to, version) => {
        if (checkpoint === undefined || checkpoint.position !== from || checkpoint.version !== version)
          return false
        apply(writes)
        checkpoint = { version, position: to, error: null }
        return true
      },
      fail: (version, error) => {
        checkpoint = { version, position: checkpoint?.position ?? 0, error }
      }
    }
  }

  const projection = (name: string) => {
    let store = projections.get(name)
    if (store === undefined) {
      store = make()
      projections.set(name, store)
    }
    return store
  }
  return {
    projection,
    // Nothing can fail half-way in memory: one commit after the other is all-or-nothing already.
    commitAll: (commits) =>
      commits.map((c) => projection(c.projection).commit(c.writes, c.from, c.to, c.version)),
    close: () => {}
  }
}
