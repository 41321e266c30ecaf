"""The sync engine: plan -> fetch -> stage -> commit -> push opt-outs -> record. No Qt here."""
