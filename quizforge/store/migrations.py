"""Named schema migrations, applied in order. Never edit one that has shipped: add a new one.

Times are integer milliseconds since the epoch, UTC.
"""

def _drop_days(at: str) -> str:
    """SQL dropping the counted study days (quizforge.reports.days) that hold the moment `at`
    (a day is at most 3 days long: 259,200,000 ms), so the next report counts them again."""
    return "\n            ".join(
        f"DELETE FROM {table} WHERE lo > {at} - 259200000 AND lo <= {at} AND hi > {at};"
        for table in ("study_days_done", "study_days"))


# When the answer a recall prediction belongs to was given.
_ANSWERED = "(SELECT reviewed_at FROM revlog WHERE id = {}.id)"


def _drop_recall_groups_if(condition: str) -> str:
    """Drop the recall_groups summary (built again when next needed) when `condition`."""
    return (f"DELETE FROM recall_groups_done WHERE {condition};"
            f" DELETE FROM recall_groups WHERE {condition};")


# What a card adds to each count of card_groups (`row`: NEW or OLD, or '' in a SELECT).
_GROUP_COUNTS = (
    ("new_cards", "{r}state = 0"),
    ("learning", "{r}state IN (1, 3)"),
    ("young", "{r}state = 2 AND {r}due - {r}last_review < 1814400000"),
    ("mature", "{r}state = 2 AND {r}due - {r}last_review >= 1814400000"),
    ("suspended", "{r}suspended"),
    ("leeches", "{r}leech"),
    ("reviewed", "{r}state != 0 AND {r}stability > 0"),
)


def _group_sums(agg: str, row: str) -> str:
    """The counts as `agg`(COALESCE(condition, 0)), of `row`'s columns."""
    r = f"{row}." if row else ""
    return ", ".join(f"{agg}(COALESCE({c.format(r=r)}, 0))" for _, c in _GROUP_COUNTS)


def _group_add(row: str) -> str:
    names = ", ".join(n for n, _ in _GROUP_COUNTS)
    values = ", ".join(f"COALESCE({c.format(r=row + '.')}, 0)" for _, c in _GROUP_COUNTS)
    sets = ", ".join(f"{n} = {n} + excluded.{n}" for n, _ in _GROUP_COUNTS)
    return (f"INSERT INTO card_groups (deck_id, tags, cards, {names})"
            f" SELECT {row}.deck_id, {row}.tags, 1, {values}"
            f" WHERE {row}.in_deck = 1 AND {row}.kind != 'skill'"
            f" ON CONFLICT (deck_id, tags) DO UPDATE SET cards = cards + 1, {sets};")


def _group_sub(row: str) -> str:
    sets = ", ".join(f"{n} = {n} - COALESCE({c.format(r=row + '.')}, 0)"
                     for n, c in _GROUP_COUNTS)
    return (f"UPDATE card_groups SET cards = cards - 1, {sets}"
            f" WHERE deck_id = {row}.deck_id AND tags = {row}.tags"
            f" AND {row}.in_deck = 1 AND {row}.kind != 'skill';")


MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_cards_and_revlog",
        """
        CREATE TABLE cards (
            id          INTEGER PRIMARY KEY,
            deck_id     TEXT NOT NULL,
            card_id     TEXT NOT NULL,
            kind        TEXT NOT NULL,              -- flashcard | mcq | generated | skill
            tags        TEXT NOT NULL DEFAULT '',   -- ' tag1 tag2 ' (padded for LIKE '% t %')
            state       INTEGER NOT NULL DEFAULT 0, -- 0 new, 1 learning, 2 review, 3 relearning
            step        INTEGER,
            stability   REAL,
            difficulty  REAL,
            due         INTEGER,                    -- NULL while new
            last_review INTEGER,
            reps        INTEGER NOT NULL DEFAULT 0,
            lapses      INTEGER NOT NULL DEFAULT 0,
            suspended   INTEGER NOT NULL DEFAULT 0,
            leech       INTEGER NOT NULL DEFAULT 0,
            in_deck     INTEGER NOT NULL DEFAULT 1, -- 0: removed from its deck file, history kept
            added_at    INTEGER NOT NULL,
            UNIQUE (deck_id, card_id)
        );
        CREATE INDEX cards_sched ON cards (deck_id, in_deck, suspended, state, due);
        CREATE TABLE revlog (
            id            INTEGER PRIMARY KEY,
            card          INTEGER NOT NULL REFERENCES cards (id),
            reviewed_at   INTEGER NOT NULL,
            rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            duration_ms   INTEGER NOT NULL,
            state_before  INTEGER NOT NULL,
            interval_days REAL NOT NULL,          -- scheduled interval after this answer
            elapsed_days  REAL,                   -- since the previous review, NULL if first
            cram          INTEGER NOT NULL DEFAULT 0  -- practice outside the schedule
        );
        CREATE INDEX revlog_card ON revlog (card, reviewed_at);
        CREATE INDEX revlog_time ON revlog (reviewed_at)
        """,
    ),
    (
        "0002_drill_attempts",
        """
        CREATE TABLE drill_attempts (
            id           INTEGER PRIMARY KEY,
            attempted_at INTEGER NOT NULL,
            generator    TEXT NOT NULL,
            difficulty   INTEGER NOT NULL,
            form         TEXT NOT NULL,              -- number | expression | steps
            seed         INTEGER NOT NULL,
            skills       TEXT NOT NULL DEFAULT '',   -- ' fan-out sigmoid ' (padded, like cards.tags)
            correct      INTEGER NOT NULL,
            score        REAL NOT NULL,              -- 0..1, partial credit for step-by-step
            duration_ms  INTEGER NOT NULL,
            card         INTEGER REFERENCES cards (id)  -- the skill or deck card it reviewed
        );
        CREATE INDEX drill_attempts_time ON drill_attempts (attempted_at)
        """,
    ),
    (
        "0003_deck_sync",
        """
        CREATE TABLE deck_sync (
            deck_id     TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,  -- hash of the deck's card ids, types and tags
            synced_at   INTEGER NOT NULL
        )
        """,
    ),
    (
        # Honest drill mastery: `correct` now means right at the first graded answer with no
        # hint and no reveal; how the problem went is kept beside it. Rows written before
        # this migration stored `correct` = solved without a reveal (retries allowed), and
        # their tries and hints were not recorded: they keep `correct`, get solved = correct
        # and the rating the scheduler was given then (Good or Again). Comments sit above
        # each ALTER, never after it: SQLite copies the added column's text into the table's
        # CREATE statement, where a trailing -- comment would swallow the closing bracket.
        "0004_drill_attempt_detail",
        """
        -- reached the right answer, perhaps after retries or hints, without a reveal
        ALTER TABLE drill_attempts ADD COLUMN solved INTEGER NOT NULL DEFAULT 0;
        -- graded answers (unreadable and "close" answers do not count)
        ALTER TABLE drill_attempts ADD COLUMN tries INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE drill_attempts ADD COLUMN hints INTEGER NOT NULL DEFAULT 0;
        -- the worked solution was shown before the answer was found
        ALTER TABLE drill_attempts ADD COLUMN revealed INTEGER NOT NULL DEFAULT 0;
        -- the FSRS rating the attempt gave its card: good, hard or again
        ALTER TABLE drill_attempts ADD COLUMN rating TEXT CHECK (rating IN ('good', 'hard', 'again'));
        UPDATE drill_attempts
           SET solved = correct, rating = CASE WHEN correct THEN 'good' ELSE 'again' END
        """,
    ),
    (
        # Load balancing counts the reviews due on each day of a fuzz range at every answer:
        # a range scan on this index (covering: no table rows read) instead of a table scan.
        "0005_cards_due_index",
        """
        CREATE INDEX cards_due ON cards (state, due, suspended, in_deck)
        """,
    ),
    (
        # Calibration in `report`: each scheduled answer's predicted recall, kept so that 1M
        # answers are not replayed on every report (quizforge.reports.calibration fills it
        # for new answers, and anew when the parameters change), and the bins of them all.
        # The trigger drops a prediction with its answer (undo, repair) and marks the kept
        # bins stale.
        "0006_recall_predictions",
        """
        CREATE TABLE recall_predictions (
            id        INTEGER PRIMARY KEY,  -- revlog.id of a scheduled (not cram) answer
            recalled  INTEGER NOT NULL,     -- rating Hard, Good or Easy
            predicted REAL NOT NULL         -- FSRS recall then, or -1: no prediction
        );
        -- the FSRS parameters the predictions were made with (a JSON list), and the bins of
        -- them all (a JSON list of [answers, predicted sum, recalled]), NULL when stale
        CREATE TABLE recall_state (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            parameters TEXT NOT NULL,
            bins       TEXT
        );
        CREATE TRIGGER recall_predictions_follow AFTER DELETE ON revlog
        BEGIN
            UPDATE recall_state SET bins = NULL
             WHERE EXISTS (SELECT 1 FROM recall_predictions WHERE id = old.id AND predicted >= 0);
            DELETE FROM recall_predictions WHERE id = old.id;
        END
        """,
    ),
    (
        # Reviews per deck, for `quizforge decks`: counting a million review rows per
        # listing took a tenth of a second. Triggers keep each count equal to the number
        # of revlog rows whose card is in the deck, whatever writes them.
        "0007_deck_review_counts",
        """
        CREATE TABLE deck_reviews (
            deck_id TEXT PRIMARY KEY,
            reviews INTEGER NOT NULL
        );
        INSERT INTO deck_reviews (deck_id, reviews)
            SELECT c.deck_id, COUNT(*) FROM revlog v JOIN cards c ON c.id = v.card
            GROUP BY c.deck_id;
        CREATE TRIGGER deck_reviews_revlog_insert AFTER INSERT ON revlog BEGIN
            INSERT INTO deck_reviews (deck_id, reviews)
                SELECT deck_id, 1 FROM cards WHERE id = NEW.card
                ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + 1;
        END;
        CREATE TRIGGER deck_reviews_revlog_delete AFTER DELETE ON revlog BEGIN
            UPDATE deck_reviews SET reviews = reviews - 1
                WHERE deck_id = (SELECT deck_id FROM cards WHERE id = OLD.card);
        END;
        CREATE TRIGGER deck_reviews_revlog_update AFTER UPDATE OF card ON revlog BEGIN
            UPDATE deck_reviews SET reviews = reviews - 1
                WHERE deck_id = (SELECT deck_id FROM cards WHERE id = OLD.card);
            INSERT INTO deck_reviews (deck_id, reviews)
                SELECT deck_id, 1 FROM cards WHERE id = NEW.card
                ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + 1;
        END;
        CREATE TRIGGER deck_reviews_cards_insert AFTER INSERT ON cards BEGIN
            INSERT INTO deck_reviews (deck_id, reviews)
                SELECT NEW.deck_id, COUNT(*) FROM revlog WHERE card = NEW.id
                ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + excluded.reviews;
        END;
        CREATE TRIGGER deck_reviews_cards_delete AFTER DELETE ON cards BEGIN
            UPDATE deck_reviews
                SET reviews = reviews - (SELECT COUNT(*) FROM revlog WHERE card = OLD.id)
                WHERE deck_id = OLD.deck_id;
        END;
        CREATE TRIGGER deck_reviews_cards_update AFTER UPDATE OF id, deck_id ON cards BEGIN
            UPDATE deck_reviews
                SET reviews = reviews - (SELECT COUNT(*) FROM revlog WHERE card = OLD.id)
                WHERE deck_id = OLD.deck_id;
            INSERT INTO deck_reviews (deck_id, reviews)
                SELECT NEW.deck_id, COUNT(*) FROM revlog WHERE card = NEW.id
                ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + excluded.reviews;
        END
        """,
    ),
    (
        # `quizforge mock`: each round, and each answer in it (the card's review is in revlog
        # too, linked here, so a round is rebuilt from its rows). A round's row is written at
        # its start and closed at its end: an interrupted round keeps the answers it has.
        "0008_mock_rounds",
        """
        CREATE TABLE mock_rounds (
            id         INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            ended_at   INTEGER,                  -- NULL: never closed (the process was killed)
            minutes    INTEGER NOT NULL,
            planned    INTEGER NOT NULL,         -- questions chosen for the round
            seed       INTEGER NOT NULL,
            decks      TEXT NOT NULL DEFAULT '', -- ' d1 d2 ': the decks it was weighted toward
            tags       TEXT NOT NULL DEFAULT '', -- ' t1 t2 ': the tags it was weighted toward
            ended      TEXT CHECK (ended IN ('done', 'time', 'quit', 'interrupted'))
        );
        CREATE TABLE mock_answers (
            id          INTEGER PRIMARY KEY,
            round       INTEGER NOT NULL REFERENCES mock_rounds (id),
            position    INTEGER NOT NULL,           -- 1, 2, ... in the order asked
            card        INTEGER NOT NULL REFERENCES cards (id),
            kind        TEXT NOT NULL,              -- flashcard | mcq | formula | explain | generated
            topics      TEXT NOT NULL DEFAULT '',   -- ' t1 t2 ': the card's tags then
            skills      TEXT NOT NULL DEFAULT '',   -- ' explaining ' or ' drills fan-out '
            score       REAL NOT NULL,              -- 0..1
            rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            answered_at INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            revlog      INTEGER                     -- the review it counted as
        );
        CREATE INDEX mock_answers_round ON mock_answers (round, position)
        """,
    ),
    (
        # The report's most-missed MCQs: answers and Again answers per card, kept by triggers
        # (as deck_reviews is), so `report` reads one row per card rather than scanning the
        # million-row log. Keyed by revlog.card, so it always equals a recount of the log
        # (`quizforge doctor` checks it; `doctor --fix` rebuilds it). A card with no answer
        # left has no row.
        "0009_report_speed_card_reviews",
        """
        CREATE TABLE card_reviews (
            card    INTEGER PRIMARY KEY,  -- revlog.card
            answers INTEGER NOT NULL,     -- review-log rows, cram included
            misses  INTEGER NOT NULL      -- of those, rated Again
        );
        INSERT INTO card_reviews (card, answers, misses)
            SELECT card, COUNT(*), SUM(rating = 1) FROM revlog GROUP BY card;
        CREATE TRIGGER card_reviews_revlog_insert AFTER INSERT ON revlog BEGIN
            INSERT INTO card_reviews (card, answers, misses) VALUES (NEW.card, 1, NEW.rating = 1)
                ON CONFLICT (card) DO UPDATE SET answers = answers + 1,
                                                 misses = misses + excluded.misses;
        END;
        CREATE TRIGGER card_reviews_revlog_delete AFTER DELETE ON revlog BEGIN
            UPDATE card_reviews SET answers = answers - 1, misses = misses - (OLD.rating = 1)
                WHERE card = OLD.card;
            DELETE FROM card_reviews WHERE card = OLD.card AND answers <= 0;
        END;
        CREATE TRIGGER card_reviews_revlog_update AFTER UPDATE OF card, rating ON revlog BEGIN
            UPDATE card_reviews SET answers = answers - 1, misses = misses - (OLD.rating = 1)
                WHERE card = OLD.card;
            DELETE FROM card_reviews WHERE card = OLD.card AND answers <= 0;
            INSERT INTO card_reviews (card, answers, misses) VALUES (NEW.card, 1, NEW.rating = 1)
                ON CONFLICT (card) DO UPDATE SET answers = answers + 1,
                                                 misses = misses + excluded.misses;
        END
        """,
    ),
    (
        # `report`'s trends and true retention per study day: for each day and (deck, tag
        # list), the predictions of the day's scheduled answers and the first scheduled
        # answer of the day of each card (young/mature, passed). A day is keyed by its exact
        # bounds (lo, hi), so a change of day_starts_at or time zone simply misses; reports
        # fill the days they need (quizforge.reports.days) and triggers drop a day whenever
        # anything it was counted from changes (an answer, its prediction, a card's deck or
        # tags), so what is kept always equals a recount from the review log.
        "0010_report_speed_study_days",
        f"""
        CREATE TABLE study_days (
            lo            INTEGER NOT NULL,  -- the study day's start and end (ms)
            hi            INTEGER NOT NULL,
            deck_id       TEXT NOT NULL,
            tags          TEXT NOT NULL,     -- cards.tags of the cards counted
            pred_n        INTEGER NOT NULL,  -- scheduled answers with a prediction
            pred_sum      REAL NOT NULL,
            young         INTEGER NOT NULL,  -- first answers of the day in review state
            young_passed  INTEGER NOT NULL,
            mature        INTEGER NOT NULL,
            mature_passed INTEGER NOT NULL,
            PRIMARY KEY (lo, hi, deck_id, tags)
        ) WITHOUT ROWID;
        -- the days counted (a day with no answer has no study_days row but is listed here)
        CREATE TABLE study_days_done (
            lo INTEGER NOT NULL,
            hi INTEGER NOT NULL,
            PRIMARY KEY (lo, hi)
        ) WITHOUT ROWID;
        CREATE TRIGGER study_days_revlog_insert AFTER INSERT ON revlog BEGIN
            {_drop_days("NEW.reviewed_at")}
        END;
        CREATE TRIGGER study_days_revlog_delete AFTER DELETE ON revlog BEGIN
            {_drop_days("OLD.reviewed_at")}
        END;
        CREATE TRIGGER study_days_revlog_update AFTER UPDATE ON revlog BEGIN
            {_drop_days("OLD.reviewed_at")}
            {_drop_days("NEW.reviewed_at")}
        END;
        CREATE TRIGGER study_days_prediction_insert AFTER INSERT ON recall_predictions
            WHEN EXISTS (SELECT 1 FROM study_days_done)
        BEGIN
            {_drop_days(_ANSWERED.format("NEW"))}
        END;
        CREATE TRIGGER study_days_prediction_delete AFTER DELETE ON recall_predictions
            WHEN EXISTS (SELECT 1 FROM study_days_done)
        BEGIN
            {_drop_days(_ANSWERED.format("OLD"))}
        END;
        CREATE TRIGGER study_days_prediction_update AFTER UPDATE ON recall_predictions
            WHEN EXISTS (SELECT 1 FROM study_days_done)
        BEGIN
            {_drop_days(_ANSWERED.format("OLD"))}
            {_drop_days(_ANSWERED.format("NEW"))}
        END;
        CREATE TRIGGER study_days_cards_update AFTER UPDATE OF id, deck_id, tags ON cards
            WHEN OLD.id IS NOT NEW.id OR OLD.deck_id IS NOT NEW.deck_id OR OLD.tags IS NOT NEW.tags
        BEGIN
            DELETE FROM study_days_done;
            DELETE FROM study_days;
        END;
        CREATE TRIGGER study_days_cards_delete AFTER DELETE ON cards BEGIN
            DELETE FROM study_days_done;
            DELETE FROM study_days;
        END;
        CREATE TRIGGER study_days_cards_insert AFTER INSERT ON cards
            WHEN EXISTS (SELECT 1 FROM revlog WHERE card = NEW.id)
        BEGIN
            DELETE FROM study_days_done;
            DELETE FROM study_days;
        END
        """,
    ),
    (
        # `quizforge sync` (quizforge/sync/): this store's device id and the bookkeeping of
        # what it sent to and read from the sync folder. The outbox lists rows written here
        # and not yet exported (triggers fill it; rows imported from another device are not
        # added, sync_importing holds one row while an import runs); with each answer it
        # keeps the card's schedule right after it (the answer's own write comes first in
        # one transaction). sync_map ties every exported or imported row to its global uid
        # (device, n); a row deleted after it was exported (undo) keeps its uid, marked
        # undone, for the export to send an `undo` record.
        "0011_sync_log",
        """
        CREATE TABLE sync_device (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            device     TEXT NOT NULL,              -- uuid4 hex, this store's device id
            nonce      TEXT NOT NULL,              -- uuid4 hex, this copy of the store
            name       TEXT NOT NULL,              -- hostname when it was made
            location   TEXT NOT NULL,              -- host, path and inode of the store file:
                                                   -- when they change, the nonce does
            created_at INTEGER NOT NULL,
            next_n     INTEGER NOT NULL DEFAULT 1  -- the next uid number to give out
        );
        CREATE TABLE sync_devices (
            idx       INTEGER PRIMARY KEY,
            device    TEXT NOT NULL UNIQUE,
            name      TEXT NOT NULL DEFAULT '',
            last_seq  INTEGER NOT NULL DEFAULT 0,  -- highest segment read (own: written)
            last_at   INTEGER                      -- its latest segment's written-at
        );
        CREATE TABLE sync_importing (x INTEGER);
        CREATE TABLE sync_outbox (
            tbl        TEXT NOT NULL,              -- revlog | attempt | mock
            row        INTEGER NOT NULL,
            udev       INTEGER,                    -- uid given out before the file was written
            un         INTEGER,
            state      INTEGER,
            step       INTEGER,
            stability  REAL,
            difficulty REAL,
            due        INTEGER,
            reps       INTEGER,
            lapses     INTEGER,
            leech      INTEGER,
            PRIMARY KEY (tbl, row)
        ) WITHOUT ROWID;
        CREATE TABLE sync_map (
            dev       INTEGER NOT NULL,            -- sync_devices.idx
            n         INTEGER NOT NULL,
            tbl       TEXT NOT NULL,
            row       INTEGER,                     -- NULL once undone
            undone    INTEGER NOT NULL DEFAULT 0,
            undo_sent INTEGER NOT NULL DEFAULT 1,
            seg       INTEGER,                     -- own rows: the segment that carried it
            ivl_ms    INTEGER,                     -- reviews: the interval sent, exactly
            PRIMARY KEY (dev, n)
        ) WITHOUT ROWID;
        CREATE INDEX sync_map_row ON sync_map (tbl, row);
        CREATE INDEX sync_map_unsent ON sync_map (undo_sent) WHERE undo_sent = 0;
        CREATE INDEX sync_map_seg ON sync_map (seg) WHERE seg IS NOT NULL;
        CREATE TABLE sync_pending (
            dev     INTEGER NOT NULL,
            n       INTEGER NOT NULL,
            deck_id TEXT NOT NULL,
            card_id TEXT NOT NULL,
            record  TEXT NOT NULL,                 -- the review record as read (JSON)
            PRIMARY KEY (dev, n)
        ) WITHOUT ROWID;
        CREATE TABLE sync_events (
            dev       INTEGER NOT NULL,
            n         INTEGER NOT NULL,
            deck_id   TEXT NOT NULL,
            card_id   TEXT NOT NULL,
            suspended INTEGER NOT NULL,
            at        INTEGER NOT NULL,
            seg       INTEGER,
            PRIMARY KEY (dev, n)
        ) WITHOUT ROWID;
        CREATE INDEX sync_events_card ON sync_events (deck_id, card_id);
        -- the cards suspended when the last sync ended: a difference is a suspend event
        CREATE TABLE sync_suspended (card INTEGER PRIMARY KEY);
        CREATE TABLE sync_settings (
            key    TEXT PRIMARY KEY,
            value  TEXT NOT NULL,                  -- JSON
            at     INTEGER NOT NULL,
            device TEXT NOT NULL
        );
        CREATE TABLE sync_files (
            device   TEXT NOT NULL,
            name     TEXT NOT NULL,
            size     INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            seq      INTEGER,
            status   TEXT NOT NULL,                -- read | incomplete | bad
            PRIMARY KEY (device, name)
        ) WITHOUT ROWID;
        INSERT INTO sync_outbox (tbl, row) SELECT 'revlog', id FROM revlog;
        INSERT INTO sync_outbox (tbl, row) SELECT 'attempt', id FROM drill_attempts;
        INSERT INTO sync_outbox (tbl, row) SELECT 'mock', id FROM mock_rounds;
        INSERT INTO sync_suspended (card) SELECT id FROM cards WHERE suspended = 1;
        CREATE TRIGGER sync_revlog_insert AFTER INSERT ON revlog
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing)
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (tbl, row, state, step, stability, difficulty, due,
                                                reps, lapses, leech)
                SELECT 'revlog', NEW.id, state, step, stability, difficulty, due, reps, lapses,
                       leech FROM cards WHERE id = NEW.card;
        END;
        CREATE TRIGGER sync_revlog_delete AFTER DELETE ON revlog BEGIN
            INSERT OR IGNORE INTO sync_map (dev, n, tbl, row, undone, undo_sent)
                SELECT udev, un, 'revlog', NULL, 1, 0 FROM sync_outbox
                 WHERE tbl = 'revlog' AND row = OLD.id AND un IS NOT NULL;
            DELETE FROM sync_outbox WHERE tbl = 'revlog' AND row = OLD.id;
            UPDATE sync_map SET row = NULL, undone = 1, undo_sent = 0
             WHERE tbl = 'revlog' AND row = OLD.id;
        END;
        CREATE TRIGGER sync_attempt_insert AFTER INSERT ON drill_attempts
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('attempt', NEW.id);
        END;
        CREATE TRIGGER sync_attempt_delete AFTER DELETE ON drill_attempts BEGIN
            INSERT OR IGNORE INTO sync_map (dev, n, tbl, row, undone, undo_sent)
                SELECT udev, un, 'attempt', NULL, 1, 0 FROM sync_outbox
                 WHERE tbl = 'attempt' AND row = OLD.id AND un IS NOT NULL;
            DELETE FROM sync_outbox WHERE tbl = 'attempt' AND row = OLD.id;
            UPDATE sync_map SET row = NULL, undone = 1, undo_sent = 0
             WHERE tbl = 'attempt' AND row = OLD.id;
        END;
        CREATE TRIGGER sync_round_insert AFTER INSERT ON mock_rounds
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.id);
        END;
        CREATE TRIGGER sync_round_update AFTER UPDATE ON mock_rounds
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.id);
        END;
        CREATE TRIGGER sync_round_answer AFTER INSERT ON mock_answers
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.round);
        END
        """,
    ),
    (
        # The report's per-card figures (mastery, the interview outlook, today's counts,
        # weak spots) group the cards by (deck, tag list): an index in that order holding
        # every column they read lets SQLite walk it once instead of sorting 100k table rows
        # (issue 23: mastery at 100k cards 0.15 s -> 0.08 s; about 8 MB per 100k cards).
        # The weak spots: leeches by lapses (a few thousand rows, not the 100k cards), and
        # the most-missed cards walked from the most misses down, not sorted; a drill
        # level's attempts found by its card, not by reading every attempt. cards_due
        # (0005) gains `kind`: today's counts of deck cards (not drill skills) then read
        # the index alone.
        "0012_report_fast_indexes",
        """
        CREATE INDEX cards_groups ON cards (deck_id, tags, in_deck, kind, state, suspended,
                                            leech, due, last_review, stability);
        CREATE INDEX cards_leech ON cards (lapses) WHERE leech = 1;
        CREATE INDEX card_reviews_misses ON card_reviews (misses);
        CREATE INDEX drill_attempts_card ON drill_attempts (card);
        DROP INDEX cards_due;
        CREATE INDEX cards_due ON cards (state, due, suspended, in_deck, kind)
        """,
    ),
    (
        # The calendar's answers per day, kept with the other study-day figures: every
        # review-log row (cram included) and how many were scheduled (a row of cram answers
        # only counts for the calendar). The kept days are counted again, by the next report.
        "0013_report_fast_study_days_answers",
        """
        ALTER TABLE study_days ADD COLUMN answers INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE study_days ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0;
        DELETE FROM study_days;
        DELETE FROM study_days_done;
        """,
    ),
    (
        # The calibration of a --deck or --tag selection: the stored predictions counted per
        # (deck, tag list) and step of 1/20 (reports.calibration), not the review log's
        # half million rows of the selection joined again. Built by the first report that
        # needs it (recall_groups_done then holds its one row) and kept by these triggers;
        # what they cannot follow (an answer deleted, a card moved or retagged) drops it,
        # to be built again.
        "0014_report_fast_recall_groups",
        f"""
        CREATE TABLE recall_groups (
            deck_id   TEXT NOT NULL,
            tags      TEXT NOT NULL,
            step      INTEGER NOT NULL,  -- MIN(CAST(predicted * 20 AS INTEGER), 19)
            n         INTEGER NOT NULL,
            predicted REAL NOT NULL,     -- sum
            recalled  INTEGER NOT NULL,  -- sum
            PRIMARY KEY (deck_id, tags, step)
        ) WITHOUT ROWID;
        CREATE TABLE recall_groups_done (id INTEGER PRIMARY KEY CHECK (id = 1));
        CREATE TRIGGER recall_groups_prediction_insert AFTER INSERT ON recall_predictions
            WHEN NEW.predicted >= 0 AND EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            INSERT INTO recall_groups (deck_id, tags, step, n, predicted, recalled)
                SELECT c.deck_id, c.tags, MIN(CAST(NEW.predicted * 20 AS INTEGER), 19), 1,
                       NEW.predicted, NEW.recalled
                FROM revlog r JOIN cards c ON c.id = r.card WHERE r.id = NEW.id
                ON CONFLICT (deck_id, tags, step) DO UPDATE SET n = n + 1,
                    predicted = predicted + excluded.predicted,
                    recalled = recalled + excluded.recalled;
        END;
        CREATE TRIGGER recall_groups_prediction_delete AFTER DELETE ON recall_predictions
            WHEN OLD.predicted >= 0 AND EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            UPDATE recall_groups SET n = n - 1, predicted = predicted - OLD.predicted,
                                     recalled = recalled - OLD.recalled
                WHERE step = MIN(CAST(OLD.predicted * 20 AS INTEGER), 19)
                  AND (deck_id, tags) = (SELECT c.deck_id, c.tags FROM revlog r
                                         JOIN cards c ON c.id = r.card WHERE r.id = OLD.id);
            {_drop_recall_groups_if("NOT EXISTS (SELECT 1 FROM revlog WHERE id = OLD.id)")}
        END;
        CREATE TRIGGER recall_groups_prediction_update AFTER UPDATE ON recall_predictions
            WHEN EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            {_drop_recall_groups_if("1")}
        END;
        CREATE TRIGGER recall_groups_revlog_update AFTER UPDATE OF id, card ON revlog
            WHEN EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            {_drop_recall_groups_if("1")}
        END;
        CREATE TRIGGER recall_groups_cards_update AFTER UPDATE OF id, deck_id, tags ON cards
            WHEN (OLD.id IS NOT NEW.id OR OLD.deck_id IS NOT NEW.deck_id
                  OR OLD.tags IS NOT NEW.tags) AND EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            {_drop_recall_groups_if("1")}
        END;
        CREATE TRIGGER recall_groups_cards_delete AFTER DELETE ON cards
            WHEN EXISTS (SELECT 1 FROM recall_groups_done)
        BEGIN
            {_drop_recall_groups_if("1")}
        END;
        CREATE TRIGGER recall_groups_cards_insert AFTER INSERT ON cards
            WHEN EXISTS (SELECT 1 FROM recall_groups_done)
                 AND EXISTS (SELECT 1 FROM revlog WHERE card = NEW.id)
        BEGIN
            {_drop_recall_groups_if("1")}
        END
        """,
    ),
    (
        # The mastery table's counts per (deck, tag list) of the cards in deck files (drill
        # skills left out), kept by triggers as each card changes: the report then computes
        # only recall, which depends on the time, card by card (issue 23). 21 days:
        # reports.mastery.MATURE_DAYS. A group whose cards all left keeps a row of zeros.
        "0015_report_fast_card_groups",
        f"""
        CREATE TABLE card_groups (
            deck_id   TEXT NOT NULL,
            tags      TEXT NOT NULL,
            cards     INTEGER NOT NULL,
            new_cards INTEGER NOT NULL,
            learning  INTEGER NOT NULL,
            young     INTEGER NOT NULL,
            mature    INTEGER NOT NULL,
            suspended INTEGER NOT NULL,
            leeches   INTEGER NOT NULL,
            reviewed  INTEGER NOT NULL,  -- answered at least once, with a stability
            PRIMARY KEY (deck_id, tags)
        ) WITHOUT ROWID;
        INSERT INTO card_groups SELECT deck_id, tags, COUNT(*), {_group_sums("SUM", "")}
            FROM cards WHERE in_deck = 1 AND kind != 'skill' GROUP BY deck_id, tags;
        CREATE TRIGGER card_groups_insert AFTER INSERT ON cards
            WHEN NEW.in_deck = 1 AND NEW.kind != 'skill'
        BEGIN
            {_group_add("NEW")}
        END;
        CREATE TRIGGER card_groups_delete AFTER DELETE ON cards
            WHEN OLD.in_deck = 1 AND OLD.kind != 'skill'
        BEGIN
            {_group_sub("OLD")}
        END;
        CREATE TRIGGER card_groups_update AFTER UPDATE OF deck_id, tags, in_deck, kind, state,
            due, last_review, stability, suspended, leech ON cards
        BEGIN
            {_group_sub("OLD")}
            {_group_add("NEW")}
        END
        """,
    ),
    (
        # When a card was suspended or unsuspended here, and a setting changed, as they
        # happen: the next sync sends that time (not its own), so the change made last wins
        # on every device, whichever machine syncs last. The sync consumes them.
        "0016_sync_fix_b_change_stamps",
        """
        CREATE TABLE sync_suspend_stamps (
            card      INTEGER PRIMARY KEY,
            suspended INTEGER NOT NULL,
            at        INTEGER NOT NULL
        );
        CREATE TABLE sync_setting_stamps (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL,                   -- JSON, as sync_settings keeps it
            at    INTEGER NOT NULL
        )
        """,
    ),
    (
        # Answers numbered one after another that took review-log ids one after another
        # (a first sync: a million, sent or read) are tied to their uids by one row a run,
        # not one an answer: answer n + k of the run is review-log row lo + k. A uid of a
        # run that sync_map also lists is what sync_map says (undone: deleted here, or by
        # an undo read; or sent with an interval of its own). Deleting such a row lists its
        # uid in sync_map as undone, as sync_revlog_delete does for the rows sync_map ties.
        "0017_sync_speed_2_uid_runs",
        """
        CREATE TABLE sync_runs (
            dev INTEGER NOT NULL,                  -- sync_devices.idx
            n   INTEGER NOT NULL,                  -- the run's first uid number
            lo  INTEGER NOT NULL,                  -- its review-log id
            hi  INTEGER NOT NULL,                  -- the run's last review-log id
            seg INTEGER,                           -- own answers: the segment that carried them
            PRIMARY KEY (dev, n)
        ) WITHOUT ROWID;
        CREATE INDEX sync_runs_row ON sync_runs (lo);
        CREATE INDEX sync_runs_seg ON sync_runs (seg) WHERE seg IS NOT NULL;
        CREATE TRIGGER sync_revlog_delete_run AFTER DELETE ON revlog
            WHEN EXISTS (SELECT 1 FROM sync_runs)
        BEGIN
            INSERT OR IGNORE INTO sync_map (dev, n, tbl, row, undone, undo_sent, seg)
                SELECT dev, n + OLD.id - lo, 'revlog', NULL, 1, 0, seg FROM sync_runs
                 WHERE lo = (SELECT MAX(lo) FROM sync_runs WHERE lo <= OLD.id)
                   AND hi >= OLD.id;
        END
        """,
    ),
    (
        # Sync's segments of format 2 (answers packed a column at a time): a quizforge
        # that read only format 1 found them "not complete" and remembered them so, size
        # and time, never to read them again unchanged. Forgotten here, they are read at
        # the next sync of this (newer) quizforge.
        "0018_sync_packed_segments",
        """
        DELETE FROM sync_files WHERE status = 'incomplete';
        """,
    ),
    (
        # The sync outbox lists what this store writes only once it has a sync device (its
        # first sync made one): a store that never synced has nothing to list it for, and
        # its first sync lists every answer, drill attempt and mock round it holds
        # (sync.device.list_all_unsent) before it exports. An Anki import of 100,000
        # answers into a new store no longer writes 100,000 outbox rows (~0.05 s).
        "0019_sync_outbox_after_first_sync",
        """
        DROP TRIGGER sync_revlog_insert;
        DROP TRIGGER sync_attempt_insert;
        DROP TRIGGER sync_round_insert;
        DROP TRIGGER sync_round_update;
        DROP TRIGGER sync_round_answer;
        CREATE TRIGGER sync_revlog_insert AFTER INSERT ON revlog
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing) AND EXISTS (SELECT 1 FROM sync_device)
        BEGIN
            INSERT OR REPLACE INTO sync_outbox (tbl, row, state, step, stability, difficulty, due,
                                                reps, lapses, leech)
                SELECT 'revlog', NEW.id, state, step, stability, difficulty, due, reps, lapses,
                       leech FROM cards WHERE id = NEW.card;
        END;
        CREATE TRIGGER sync_attempt_insert AFTER INSERT ON drill_attempts
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing) AND EXISTS (SELECT 1 FROM sync_device)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('attempt', NEW.id);
        END;
        CREATE TRIGGER sync_round_insert AFTER INSERT ON mock_rounds
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing) AND EXISTS (SELECT 1 FROM sync_device)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.id);
        END;
        CREATE TRIGGER sync_round_update AFTER UPDATE ON mock_rounds
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing) AND EXISTS (SELECT 1 FROM sync_device)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.id);
        END;
        CREATE TRIGGER sync_round_answer AFTER INSERT ON mock_answers
            WHEN NOT EXISTS (SELECT 1 FROM sync_importing) AND EXISTS (SELECT 1 FROM sync_device)
        BEGIN
            INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('mock', NEW.round);
        END
        """,
    ),
]
