"""Design a page layout: start from a layout file or an upload, edit it in a form, see the page it gives
the current user, then save it to layouts/ or download it."""

import hashlib

import polars as pl
import streamlit as st

from pagegen.app import render
from pagegen.app.designer import draft_layout, tile_records
from pagegen.app.sidebar import sidebar
from pagegen.errors import PagegenError
from pagegen.layout import (
    GRID_RANGES,
    LAYOUT_RANGES,
    MAX_LAYOUT_BYTES,
    TILE_SLOTS,
    layout_file_name,
    layout_to_toml,
    parse_layout,
    parse_upload,
    save_layout,
    shipped_layouts,
)
from pagegen.vocabulary import ROW_TYPES

context = sidebar("designer")
st.title("Layout designer")
start = st.radio("Start from", ["a layout file", "an uploaded TOML file"], horizontal=True, key="designer.start")
layouts = shipped_layouts()
if start == "a layout file":
    name = st.selectbox("Layout", list(layouts), index=list(layouts).index(context.state.layout), key="designer.file")
    text = layouts[name].read_text(encoding="utf-8")
    source = str(layouts[name])
else:
    upload = st.file_uploader(
        f"Layout file (TOML, at most {MAX_LAYOUT_BYTES // 1000} kB)", type=["toml"], key="designer.upload"
    )
    if upload is None:
        st.stop()
    try:
        _, text = parse_upload(upload.getvalue())  # the bytes only: the upload's name is never used
    except PagegenError as error:
        st.error(f"This layout cannot be used: {error}. Nothing was saved.")
        st.stop()
    source = "uploaded layout"
base = parse_layout(text, source=source)
version = hashlib.sha256(text.encode()).hexdigest()[:12]  # a new starting layout resets the form

with st.form(f"designer.{version}"):
    name = st.text_input("Name", base.name)
    description = st.text_input("Description", base.description)
    decay = st.columns(2)
    row, slot = LAYOUT_RANGES["row_decay"], LAYOUT_RANGES["slot_decay"]
    row_decay = decay[0].slider("Attention decay per row (down the page)", row.low, row.high, base.row_decay, row.step)
    slot_decay = decay[1].slider(
        "Attention decay per card (along a row)", slot.low, slot.high, base.slot_decay, slot.step
    )
    st.caption(f"Tiles, top to bottom. Cards per tile: {', '.join(f'{k} {r}' for k, r in TILE_SLOTS.items())}.")
    tiles = st.data_editor(
        pl.DataFrame(
            tile_records(base), schema={"kind": pl.String, "slots": pl.Int64, "columns": pl.Int64, "pinned": pl.String}
        ),
        num_rows="dynamic",
        width="stretch",
        column_config={
            "kind": st.column_config.SelectboxColumn("Kind", options=list(TILE_SLOTS), required=True),
            "slots": st.column_config.NumberColumn("Cards", min_value=1, step=1, required=True),
            "columns": st.column_config.NumberColumn(
                "Grid columns", min_value=GRID_RANGES["columns"].low, max_value=GRID_RANGES["columns"].high, step=1
            ),
            "pinned": st.column_config.SelectboxColumn("Pinned row type", options=list(ROW_TYPES)),
        },
    )
    required = st.multiselect("Required row types", ROW_TYPES, default=list(base.constraints.required_row_types))
    st.form_submit_button("Validate and preview", type="primary")

try:
    draft = draft_layout(
        base,
        name=name,
        description=description,
        row_decay=row_decay,
        slot_decay=slot_decay,
        tiles=tiles.to_dicts(),
        required_row_types=required,
    )
except PagegenError as error:
    st.error(f"Not valid yet: {error}")
    st.stop()

toml_text = layout_to_toml(draft, original=text)
file_name = layout_file_name(draft.name)
st.success(f"Valid: {len(draft.tiles)} tiles, {draft.total_slots} cards.")
actions = st.columns([1, 1, 2])
actions[0].download_button("Download TOML", toml_text, file_name=file_name, mime="application/toml")
overwrite = actions[2].checkbox(f"Replace layouts/{file_name} if it exists", key="designer.overwrite")
if actions[1].button("Save to layouts/", key="designer.save"):
    try:
        saved = save_layout(draft, overwrite=overwrite)
        st.success(f"Saved to {saved}; pick “{saved.stem}” in the sidebar's layout list.")
    except PagegenError as error:
        st.error(f"Not saved: {error}")

with st.expander("TOML", expanded=False):
    st.code(toml_text, language="toml")
st.subheader("Preview for the current user")
page = context.page_or_stop(layout=draft)
st.caption(
    f"{page.report.optimizer.upper()} {page.report.status} · objective {page.report.objective:.2f} · template titles"
)
st.html(render.STYLE)
for block in render.page_html(page, held_out=context.held_out):
    st.html(block)
