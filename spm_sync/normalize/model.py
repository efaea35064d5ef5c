"""Typed form of a mapping file (`mappings/<type>.yaml`): what each normalized input is built from."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ValueMap(_Model):
    """`expr` evaluated, then translated through `map` (CRM value -> our value); others get `default`."""

    expr: str
    map: dict[str, str | None]
    default: str | None = None

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k).lower() if isinstance(k, bool) else str(k): v for k, v in value.items()}
        return value


class Join(_Model):
    """A LEFT JOIN of another raw table of the same source; `on` refers to the main table as `src`."""

    table: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    alias: str = Field(alias="as", pattern=r"^[a-z_][a-z0-9_]*$")
    on: str


class Part(_Model):
    """One SELECT over one raw table; several parts of a target are stacked (UNION ALL)."""

    from_: str = Field(alias="from", pattern=r"^[a-z_{][a-z0-9_{}]*$")
    where: str | None = None
    joins: list[Join] = Field(default_factory=list)
    fields: dict[str, str | ValueMap]
    each_stage: bool = Field(False, description="one row per mapped stage; `{stage}` in expressions")
    optional: bool = Field(False, description="the source may lack this part's raw table (the part then adds no rows)")
    optional_columns: list[str] = Field(
        default_factory=list,
        description="raw columns the source may lack (they read NULL; `{stage}` as in expressions)",
    )

    def may_lack(self, column: str | None = None, stage: str | None = None) -> bool:
        """Whether the source's schema may lack this part's table (`column` None) or this raw column;
        anything else a part names and the schema lacks is an error."""
        if column is None:
            return self.optional
        return column.lower() in {name.replace("{stage}", stage or "").lower() for name in self.optional_columns}


class Currency(_Model):
    home: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="default: the reporting currency")


class Mapping(_Model):
    """A whole mapping file; `locate` names the file and line of a key (set by the loader)."""

    version: int = Field(1, ge=1, le=1)
    description: str | None = None
    currency: Currency = Field(default_factory=Currency)
    categories: list[str] = Field(default_factory=list, description="stage categories beyond the built-in ones")
    stages: dict[str, str] = Field(default_factory=dict, description="stage value -> stage category")
    tables: dict[str, list[Part]] = Field(description="target -> one part or a list of parts")

    @field_validator("tables", mode="before")
    @classmethod
    def _one_part_is_a_list(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, dict) else v for k, v in value.items()}
        return value

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_keys_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    _file: str = PrivateAttr("")
    _locate: Callable[[tuple[str | int, ...]], tuple[str, int | None]] | None = PrivateAttr(None)

    def parts(self, target: str) -> list[Part]:
        return self.tables.get(target, [])

    def where(self, path: tuple[str | int, ...]) -> tuple[str, str, int | None]:
        """(file, key as written, line) of a key path such as ("tables", "teams", 0, "from")."""
        if self._locate is None:
            return self._file, ".".join(str(p) for p in path), None
        key, line = self._locate(path)
        return self._file, key, line
