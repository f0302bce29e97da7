import SiftCommands

SiftCommand.main()
