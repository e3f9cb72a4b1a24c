"""A context manager that its own close() undoes, even when its start() stopped half-way."""


class Closing:
    """Subclasses define start() and close(); close() copes with whatever start() got done."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()
