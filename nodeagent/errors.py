"""Expected failures of agent work: returned as FAILED task results with errno and a hint."""
import errno as errno_mod

from contracts.messages import TaskError


class AgentError(Exception):
    def __init__(self, code: str, message: str, hint: str = "", errno: int | str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint
        self.errno = errno_mod.errorcode.get(errno, str(errno)) if isinstance(errno, int) else errno

    def to_error(self) -> TaskError:
        return TaskError(code=self.code, errno=self.errno, message=self.message, hint=self.hint)
