-- Driven by neovim.test.ts: Neovim's own LSP client (vim.lsp.start_client, Neovim 0.7+) starts
-- `nabla server`, opens the file, waits for diagnostics, asks for a hover at the first one, and
-- writes what it got as JSON. Started with `-u NONE`, so there is no filetype detection and the
-- document is sent with an empty language id, as from an editor without it.
-- Neovim answers workspace/configuration from its `settings` (none here: null for `nabla`).
local out = vim.env.NABLA_NVIM_OUT
local file = vim.env.NABLA_NVIM_FILE
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
-- NABLA_NVIM_INIT: JSON for `init_options`, sent as the initializationOptions (Nabla's settings).
local init = vim.env.NABLA_NVIM_INIT and vim.fn.json_decode(vim.env.NABLA_NVIM_INIT) or nil
local client = vim.lsp.start_client({
  name = 'nabla',
  cmd = { vim.env.NABLA_NODE, vim.env.NABLA_CLI, 'server' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
  init_options = init,
})
vim.lsp.buf_attach_client(buf, client)
local waited = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  table.insert(diagnostics, { line = d.lnum, col = d.col, code = code, source = d.source, message = d.message, severity = d.severity })
end
local hover = vim.NIL
if waited then
  local first = vim.diagnostic.get(buf)[1]
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = first.lnum, character = first.col } }
  for _, response in pairs(vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000) or {}) do
    if response.result and response.result.contents then hover = response.result.contents.value or response.result.contents end
  end
end
local f = io.open(out, 'w')
f:write(vim.fn.json_encode({ waited = waited, filetype = vim.bo[buf].filetype, diagnostics = diagnostics, hover = hover }))
f:close()
vim.lsp.stop_client(client)
vim.wait(2000, function() return vim.lsp.client_is_stopped(client) end, 50)
vim.cmd('qa!')
