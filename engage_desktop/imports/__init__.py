"""Safe CSV import (Qt-free): read a file of contacts whatever its encoding and delimiter,
guess what each column holds, say what an import would do before anything is written (a dry
run), then import it in one transaction under the sync lock, merging by phone number like
every other source (storage/merge.py). Re-importing the same file changes nothing.

    fmt = detect(path)                    # encoding, delimiter, header
    preview = read_preview(path)          # guessed columns, sample rows
    report = dry_run(db, path, plan)      # new / merged / invalid / opted out, problem rows
    result = import_file(db, path, plan)  # the same, written
"""
