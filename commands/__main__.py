from release_ledger.commands.main import main

main()
