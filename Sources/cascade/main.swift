import CascadeCLI
import Foundation

exit(CascadeCLI.main(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
