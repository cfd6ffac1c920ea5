"""Domain errors; routes map them to HTTP codes. Each message says what is wrong and how to fix it."""


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Forbidden(ServiceError):
    status = 403


class Unauthorized(ServiceError):
    status = 401


class Unavailable(ServiceError):
    status = 503


class TooManyRequests(ServiceError):
    """Refused for a while (e.g. failed logins); `headers` carries Retry-After to the HTTP answer."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
